/* admin_controller - see admin_controller.h.
 *
 * Sequential on purpose: one request at a time, so two restarts never
 * overlap and a file is never written twice at once. A command gets
 * ADMIN_COMMAND_TIMEOUT seconds (an rc stop lets transfers finish for up
 * to 300 s), then it is killed. Only fixed argvs: the program is always
 * one of the installation's own files, the arguments come from tables.
 */
#include "admin/admin_controller.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "admin/admin_validate.h"
#include "lib/fd_pass.h"
#include "lib/file_read.h"

#define ADMIN_COMMAND_TIMEOUT 330
#define OUTPUT_KEEP           (64u * 1024)

extern char **environ;

static char *const command_env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                                    "/sbin:/bin",
                                    "LANG=C.UTF-8", NULL};

/* run - argv[0] with argv, in the prefix; its exit status (or
 * ADMIN_CTL_FAILED), the tail of its output in out. */
static int run(char *const argv[], char *out, size_t cap)
{
    out[0] = 0;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        str_format(out, cap, "pipe: %s", strerror(errno));
        return ADMIN_CTL_FAILED;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
    posix_spawn_file_actions_addchdir_np(&fa, admin.prefix);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    sigset_t dfl;
    sigfillset(&dfl);
    posix_spawnattr_setsigdefault(&at, &dfl);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, &at, argv, command_env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(p[1]);
    if (e != 0) {
        close(p[0]);
        str_format(out, cap, "%s: %s", argv[0], strerror(e));
        return ADMIN_CTL_FAILED;
    }
    /* Keep the last cap-1 bytes: the end says why it failed. */
    size_t len = 0;
    char chunk[4096];
    time_t deadline = time(NULL) + ADMIN_COMMAND_TIMEOUT;
    bool killed = false;
    for (;;) {
        int left = (int)(deadline - time(NULL));
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        int n = poll(&pf, 1, left * 1000);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            continue;
        ssize_t r = read(p[0], chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++) {
            if (len + 1 >= cap) {
                memmove(out, out + 1, len - 1);
                len--;
            }
            out[len++] = chunk[i];
        }
    }
    close(p[0]);
    out[len] = 0;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (killed) {
        str_format(out + len, cap - len, "\n(killed after %d s)", ADMIN_COMMAND_TIMEOUT);
        return ADMIN_CTL_FAILED;
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* write_conf - replace conf/<rel> by text, atomically, keeping the old
 * file's owner and mode (new files: root and mode). */
static int write_conf(const struct admin_controller *c, enum admin_ctl_file file, const char *text,
                      size_t len, char *out, size_t cap)
{
    const char *rel = admin_ctl_file_path(file);
    char path[PATH_MAX], tmp[PATH_MAX + 32];
    str_format(path, sizeof(path), "%s/%s", admin.conf_dir, rel);
    str_format(tmp, sizeof(tmp), "%s.console-%ld", path, (long)getpid());
    mode_t mode = 0644;
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (file == ADMIN_FILE_USERDB)
        mode = 0600; /* passwords */
    if (file == ADMIN_FILE_HTDIGEST) {
        mode = 0640; /* the web process checks logins against it */
        gid = c->run_gid;
    }
    struct stat old;
    if (lstat(path, &old) == 0) {
        if (!S_ISREG(old.st_mode)) {
            str_format(out, cap, "%s is not a regular file; not replaced", path);
            return ADMIN_CTL_REFUSED;
        }
        mode = old.st_mode & 07777;
        uid = old.st_uid;
        gid = old.st_gid;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        str_format(out, cap, "%s: %s", tmp, strerror(errno));
        return ADMIN_CTL_FAILED;
    }
    size_t off = 0;
    bool ok = true;
    while (ok && off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            ok = false;
        else
            off += (size_t)w;
    }
    if (ok && (uid != (uid_t)-1 || gid != (gid_t)-1) && geteuid() == 0 && fchown(fd, uid, gid) < 0)
        ok = false;
    if (ok && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
        ok = false;
    int e = errno;
    close(fd);
    if (!ok || rename(tmp, path) < 0) {
        if (ok)
            e = errno;
        unlink(tmp);
        str_format(out, cap, "%s: %s", path, strerror(e));
        return ADMIN_CTL_FAILED;
    }
    int dfd = open(admin.conf_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    str_format(out, cap, "%s written (%zu bytes)", path, len);
    return 0;
}

static int do_write_file(const struct admin_controller *c, unsigned file, int content_fd, char *out,
                         size_t cap)
{
    if (content_fd < 0) {
        str_format(out, cap, "no content");
        return ADMIN_CTL_REFUSED;
    }
    struct stat st;
    if (fstat(content_fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (size_t)st.st_size > ADMIN_FILE_MAX) {
        str_format(out, cap, "content refused: not a file of at most %u bytes", ADMIN_FILE_MAX);
        return ADMIN_CTL_REFUSED;
    }
    size_t len = (size_t)st.st_size;
    char *text = malloc(len + 1);
    if (text == NULL) {
        str_format(out, cap, "out of memory");
        return ADMIN_CTL_FAILED;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t r = pread(content_fd, text + off, len - off, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    text[off] = 0;
    int status;
    if (off != len) {
        str_format(out, cap, "content could not be read");
        status = ADMIN_CTL_FAILED;
    } else if (!admin_validate_file((enum admin_ctl_file)file, admin.ini_path, text, len, out,
                                    cap)) {
        status = ADMIN_CTL_REFUSED;
    } else {
        status = write_conf(c, (enum admin_ctl_file)file, text, len, out, cap);
    }
    if (status == 0 && file == ADMIN_FILE_USERDB) {
        /* AUTH-2: the database the PAM module reads is rebuilt from the text. */
        char prog[PATH_MAX], db[PATH_MAX], txt[PATH_MAX];
        str_format(prog, sizeof(prog), "%s/create_userdb%s", admin.prefix, admin.suffix);
        str_format(db, sizeof(db), "%s/pam/userdb.db", admin.conf_dir);
        str_format(txt, sizeof(txt), "%s/pam/userdb.txt", admin.conf_dir);
        char *const argv[] = {prog, db, txt, NULL};
        status = run(argv, out, cap);
        if (status == 0 && geteuid() == 0 && chown(db, 0, c->run_gid) == 0)
            chmod(db, 0640);
    }
    explicit_bzero(text, len);
    free(text);
    return status;
}

static int do_service(unsigned svc, unsigned verb, char *out, size_t cap)
{
    char prog[PATH_MAX];
    str_format(prog, sizeof(prog), "%s/rc.sekisho%s_%s", admin.prefix, admin.suffix,
               admin_ctl_service_name(svc));
    char verb_text[16];
    str_format(verb_text, sizeof(verb_text), "%s", admin_ctl_verb_name(verb));
    char *const argv[] = {prog, verb_text, NULL};
    return run(argv, out, cap);
}

static int do_make(const char *target, char *out, size_t cap)
{
    char make[] = "/usr/bin/make", dash_s[] = "-s", dash_c[] = "-C";
    char dir[PATH_MAX], t[32];
    str_format(dir, sizeof(dir), "%s", admin.prefix);
    str_format(t, sizeof(t), "%s", target);
    char *const argv[] = {make, dash_s, dash_c, dir, t, NULL};
    return run(argv, out, cap);
}

/* do_dbupdate - started, not waited for: dbupdate reports its progress in
 * run/dbupdate.status, which the Definitions page shows. */
static int do_dbupdate(char *out, size_t cap)
{
    char prog[PATH_MAX], ini[PATH_MAX], f[] = "-f";
    str_format(prog, sizeof(prog), "%s/dbupdate%s", admin.prefix, admin.suffix);
    str_format(ini, sizeof(ini), "%s", admin.ini_path);
    char *const argv[] = {prog, f, ini, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, admin.prefix);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, dfl;
    sigemptyset(&none);
    sigfillset(&dfl);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dfl);
    posix_spawnattr_setflags(&at,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    pid_t pid;
    int e = posix_spawn(&pid, prog, &fa, &at, argv, command_env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (e != 0) {
        str_format(out, cap, "%s: %s", prog, strerror(e));
        return ADMIN_CTL_FAILED;
    }
    str_format(out, cap, "dbupdate started (pid %ld)", (long)pid);
    return 0; /* reaped by the SIGCHLD handling of admin_main */
}

static int do_diag(const struct admin_controller *c, char *out, size_t cap)
{
    int status = do_make("diag", out, cap);
    if (status == 0 && geteuid() == 0) {
        char path[PATH_MAX];
        str_format(path, sizeof(path), "%s/diag.tar.gz", admin.prefix);
        if (chown(path, c->run_uid, c->run_gid) < 0 || chmod(path, 0600) < 0) {
            str_format(out, cap, "%s: %s", path, strerror(errno));
            status = ADMIN_CTL_FAILED;
        }
    }
    return status;
}

/* do_nat - misc/rc.transparent on SVC PORT | off SVC | status (TP-2).
 * The port is the one the service listens on in the ini as the
 * controller reads it now, never a number the web process sent: a
 * compromised web process can at worst redirect a standard port to the
 * proxy that owns it. An svcport with an address redirects to its port
 * (REDIRECT sends to the address of the interface the connection came
 * in on). */
_Static_assert((int)ADMIN_SVC_HTTP == (int)SVC_HTTP && (int)ADMIN_SVC_SMTP == (int)SVC_SMTP &&
                   (int)ADMIN_SVC_POP == (int)SVC_POP && (int)ADMIN_SVC_FTP == (int)SVC_FTP,
               "the wire's service numbers are the loader's");

static int do_nat(unsigned svc, unsigned verb, char *out, size_t cap)
{
    char prog[PATH_MAX], name[8], port[8];
    str_format(prog, sizeof(prog), "%s/misc/rc.transparent", admin.prefix);
    if (verb == ADMIN_VERB_STATUS) {
        char st[] = "status";
        char *const argv[] = {prog, st, NULL};
        return run(argv, out, cap);
    }
    str_format(name, sizeof(name), "%s", admin_ctl_service_name(svc));
    if (verb == ADMIN_VERB_OFF) {
        char off[] = "off";
        char *const argv[] = {prog, off, name, NULL};
        return run(argv, out, cap);
    }
    unsigned svc_port = admin_service_port(admin.ini_path, (int)svc);
    if (svc_port == 0) {
        str_format(out, cap, "%s cannot be loaded: no port to redirect to", admin.ini_path);
        return ADMIN_CTL_REFUSED;
    }
    str_format(port, sizeof(port), "%u", svc_port);
    char on[] = "on";
    char *const argv[] = {prog, on, name, port, NULL};
    return run(argv, out, cap);
}

/* do_read_file - conf/<file> into a memfd that goes with the reply. */
static int do_read_file(unsigned file, int *out_fd, char *out, size_t cap)
{
    char path[PATH_MAX];
    str_format(path, sizeof(path), "%s/%s", admin.conf_dir, admin_ctl_file_path(file));
    char err[256];
    size_t len;
    char *text = file_read_all(path, ADMIN_FILE_READ_MAX, &len, err, sizeof(err));
    if (text == NULL) {
        str_format(out, cap, "%s: %s", path, err);
        return ADMIN_CTL_FAILED;
    }
    int fd = memfd_create("sekisho-admin-read", MFD_CLOEXEC);
    size_t off = 0;
    while (fd >= 0 && off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    explicit_bzero(text, len);
    free(text);
    if (fd < 0 || off != len) {
        if (fd >= 0)
            close(fd);
        str_format(out, cap, "memfd: %s", strerror(errno));
        return ADMIN_CTL_FAILED;
    }
    *out_fd = fd;
    str_format(out, cap, "%s read (%zu bytes)", path, len);
    return 0;
}

static bool receive(int fd, unsigned char *in, size_t cap, ssize_t *len, int *content_fd)
{
    *len = fd_pass_recv1(fd, in, cap, 0, content_fd);
    if (*len > 0)
        return true;
    if (*content_fd >= 0)
        close(*content_fd);
    *content_fd = -1;
    return false;
}

bool admin_controller_serve(const struct admin_controller *c)
{
    unsigned char in[64];
    ssize_t len;
    int content_fd;
    if (!receive(c->fd, in, sizeof(in), &len, &content_fd))
        return false;
    static char text[OUTPUT_KEEP];
    int status;
    int reply_fd = -1;
    struct admin_ctl_request rq;
    if (!admin_ctl_decode_request(in, (size_t)len, &rq)) {
        if (content_fd >= 0)
            close(content_fd);
        admin_error(NULL, "controller: an invalid request was refused");
        rq.op = ADMIN_CTL_SERVICE; /* something to answer with */
        str_format(text, sizeof(text), "invalid request");
        status = ADMIN_CTL_REFUSED;
    } else {
        switch (rq.op) {
        case ADMIN_CTL_WRITE_FILE:
            status = do_write_file(c, rq.arg, content_fd, text, sizeof(text));
            break;
        case ADMIN_CTL_SERVICE:
            status = do_service(rq.arg, rq.verb, text, sizeof(text));
            break;
        case ADMIN_CTL_DBUPDATE:
            status = do_dbupdate(text, sizeof(text));
            break;
        case ADMIN_CTL_AUTOUPDATE:
            status = do_make(rq.verb == ADMIN_VERB_ON    ? "autoupdate-on"
                             : rq.verb == ADMIN_VERB_OFF ? "autoupdate-off"
                                                         : "autoupdate-status",
                             text, sizeof(text));
            break;
        case ADMIN_CTL_DIAG:
            status = do_diag(c, text, sizeof(text));
            break;
        case ADMIN_CTL_READ_FILE:
            status = do_read_file(rq.arg, &reply_fd, text, sizeof(text));
            break;
        case ADMIN_CTL_NAT:
            status = do_nat(rq.arg, rq.verb, text, sizeof(text));
            break;
        default:
            status = ADMIN_CTL_REFUSED;
            str_format(text, sizeof(text), "invalid request");
        }
        if (content_fd >= 0)
            close(content_fd);
    }
    unsigned char reply[ADMIN_CTL_REPLY_MAX];
    size_t n = admin_ctl_encode_reply(rq.op, status, text, strlen(text), reply);
    if (n > 0)
        fd_pass_send(c->fd, reply, n, reply_fd);
    if (reply_fd >= 0)
        close(reply_fd);
    return true;
}

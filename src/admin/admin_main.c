/* sekisho-admin - the web console (CLI-6, docs/internals/admin.md).
 *
 *   sekisho-admin -f conf/sekisho.ini [-c conf/admin.conf] [--suffix=S]
 *                 [--daemon] [--pidfile=FILE] [-v] [-h]
 *
 * Started as root (rc.sekisho_admin, dev/run-gateway.sh): reads the
 * configuration, binds adminport, opens log/admin/, then forks the web
 * process, which drops to run_user and serves the console; this process
 * stays the controller (admin_controller.c) and restarts the web process
 * if it dies (at most ADMIN_WEB_RESTARTS times a minute). SIGTERM or
 * SIGINT stop both. Started by another user, the same without the drop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <microhttpd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "admin/admin_auth.h"
#include "admin/admin_controller.h"
#include "admin/admin_web.h"
#include "core/config.h"
#include "core/version.h"
#include "lib/file_read.h"
#include "lib/pidfile.h"
#include "lib/privdrop.h"
#include "lib/proc.h"
#include "lib/sock.h"

#define ADMIN_WEB_RESTARTS 5
#define TLS_FILE_MAX       (256u * 1024)

struct admin_ctx admin = {.ctl_fd = -1, .ctl_lock = PTHREAD_MUTEX_INITIALIZER};

static void usage(FILE *f)
{
    fprintf(f, "usage: sekisho-admin -f conf/sekisho.ini [-c conf/admin.conf] [--suffix=S]\n"
               "                     [--daemon] [--pidfile=FILE] [-v] [-h]\n"
               "The web console of Sekisho on adminport (conf/admin.conf).\n");
}

static char *read_tls(const char *path, const char *what)
{
    char err[256], full[PATH_MAX];
    size_t len;
    if (path[0] == '/')
        str_format(full, sizeof(full), "%s", path);
    else
        str_format(full, sizeof(full), "%s/%s", admin.prefix, path);
    char *text = file_read_all(full, TLS_FILE_MAX, &len, err, sizeof(err));
    if (text == NULL)
        fprintf(stderr, "sekisho-admin: %s %s: %s\n", what, full, err);
    return text;
}

/* web_main - the web process: run_user, libmicrohttpd, until SIGTERM. */
static int web_main(int listen_fd, int ctl_fd, uid_t uid, gid_t gid, char *cert, char *key)
{
    admin.ctl_fd = ctl_fd;
    if (privdrop_to(uid, gid) < 0) {
        admin_error(NULL, "main: cannot become run_user: %s", strerror(errno));
        return 1;
    }
    if (!admin_auth_init()) {
        admin_error(NULL, "main: no random numbers");
        return 1;
    }
    struct MHD_Daemon *d = admin_web_start(listen_fd, cert, key);
    if (cert != NULL) {
        explicit_bzero(key, strlen(key));
        free(key);
        free(cert);
    }
    if (d == NULL) {
        admin_error(NULL, "main: the web server did not start");
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}

static pid_t start_web(int listen_fd, int *ctl_fd, uid_t uid, gid_t gid, char *cert, char *key)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        _exit(web_main(listen_fd, sv[1], uid, gid, cert, key));
    }
    close(sv[1]);
    *ctl_fd = sv[0];
    return pid;
}

static bool load_admin_conf(void)
{
    char err[512];
    size_t len = 0;
    char *text = file_read_all(admin.conf_path, ADMIN_CONF_FILE_MAX, &len, err, sizeof(err));
    if (text == NULL && errno != ENOENT) {
        fprintf(stderr, "sekisho-admin: %s: %s\n", admin.conf_path, err);
        return false;
    }
    /* No admin.conf: every default (make install writes one). */
    unsigned line = 0;
    admin_conf_defaults(&admin.conf);
    bool ok =
        admin_conf_parse(text != NULL ? text : "", len, &admin.conf, &line, err, sizeof(err)) == 0;
    free(text);
    if (!ok) {
        fprintf(stderr, "sekisho-admin: %s:%u: %s\n", admin.conf_path, line, err);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    const char *ini = NULL, *conf = NULL, *pidfile = NULL, *suffix = "";
    bool daemon = false, verbose = false;
    enum { OPT_SUFFIX = 256, OPT_DAEMON, OPT_PIDFILE };
    static const struct option opts[] = {
        {"suffix", required_argument, NULL, OPT_SUFFIX},
        {"daemon", no_argument, NULL, OPT_DAEMON},
        {"pidfile", required_argument, NULL, OPT_PIDFILE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "f:c:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            ini = optarg;
            break;
        case 'c':
            conf = optarg;
            break;
        case 'v':
            verbose = true;
            break;
        case OPT_SUFFIX:
            suffix = optarg;
            break;
        case OPT_DAEMON:
            daemon = true;
            break;
        case OPT_PIDFILE:
            pidfile = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (ini == NULL || optind != argc || strlen(suffix) > 1) {
        usage(stderr);
        return 2;
    }
    if (realpath(ini, admin.ini_path) == NULL) {
        fprintf(stderr, "sekisho-admin: %s: %s\n", ini, strerror(errno));
        return 1;
    }
    str_format(admin.conf_dir, sizeof(admin.conf_dir), "%s", admin.ini_path);
    dirname(admin.conf_dir);
    str_format(admin.suffix, sizeof(admin.suffix), "%s", suffix);
    if (conf != NULL)
        str_format(admin.conf_path, sizeof(admin.conf_path), "%s", conf);
    else
        str_format(admin.conf_path, sizeof(admin.conf_path), "%s/admin.conf", admin.conf_dir);

    struct config *cfg = config_load(admin.ini_path, SVC_COMMON, stderr);
    if (cfg == NULL)
        return 1;
    str_format(admin.prefix, sizeof(admin.prefix), "%s", cfg->prefix);
    if (!load_admin_conf())
        return 1;
    admin.listen_port = admin.conf.port;

    char *cert = NULL, *key = NULL;
    if (admin.conf.tls_certificate[0] != 0) {
        cert = read_tls(admin.conf.tls_certificate, "tls_certificate");
        key = read_tls(admin.conf.tls_key, "tls_key");
        if (cert == NULL || key == NULL)
            return 1;
        admin.tls = true;
    }

    uid_t uid;
    gid_t gid;
    char err[256];
    if (privdrop_resolve(cfg->run_user, &uid, &gid, err, sizeof(err)) < 0) {
        fprintf(stderr, "sekisho-admin: run_user %s: %s\n", cfg->run_user, err);
        return 1;
    }
    config_free(cfg);
    if (admin_log_open(admin.prefix, uid, gid) < 0) {
        fprintf(stderr, "sekisho-admin: %s/log/admin: %s\n", admin.prefix, strerror(errno));
        return 1;
    }

    const char *addr = admin.conf.listen.family == AF_UNSPEC ? "::" : admin.conf.listen.text;
    int lfd = sock_listen(addr, NULL, (uint16_t)admin.conf.port, 64);
    if (lfd < 0) {
        fprintf(stderr, "sekisho-admin: cannot listen on %s port %u: %s\n", admin.conf.listen.text,
                admin.conf.port, strerror(errno));
        admin_error(NULL, "main: cannot listen on %s port %u: %s", admin.conf.listen.text,
                    admin.conf.port, strerror(errno));
        return 1;
    }
    /* libmicrohttpd's own polling thread accepts: a blocking socket is
     * what it expects from MHD_OPTION_LISTEN_SOCKET. */
    int fl = fcntl(lfd, F_GETFL);
    fcntl(lfd, F_SETFL, fl & ~O_NONBLOCK);

    int ready_fd = -1;
    if (daemon && proc_detach(verbose, &ready_fd) < 0) {
        fprintf(stderr, "sekisho-admin: cannot detach: %s\n", strerror(errno));
        return 1;
    }
    if (pidfile != NULL && pidfile_write(pidfile, getpid()) < 0) {
        fprintf(stderr, "sekisho-admin: %s: %s\n", pidfile, strerror(errno));
        return 1;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);

    struct admin_controller ctl = {.run_uid = uid, .run_gid = gid};
    pid_t web = start_web(lfd, &ctl.fd, uid, gid, cert, key);
    if (web < 0 || sfd < 0) {
        fprintf(stderr, "sekisho-admin: cannot start the web process: %s\n", strerror(errno));
        return 1;
    }
    const char *scheme = admin.tls ? "https" : "http";
    admin_error(NULL, "main: console started on %s://%s:%u/ (pid %ld)", scheme,
                admin.conf.listen.text, admin.conf.port, (long)getpid());
    fprintf(stderr, "sekisho-admin: console on %s://%s:%u/\n", scheme, admin.conf.listen.text,
            admin.conf.port);
    if (ready_fd >= 0)
        proc_ready(ready_fd);

    time_t restarts[ADMIN_WEB_RESTARTS] = {0};
    unsigned nrestart = 0;
    int rc = 0;
    for (bool stop = false; !stop;) {
        struct pollfd pf[2] = {{.fd = sfd, .events = POLLIN}, {.fd = ctl.fd, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!admin_controller_serve(&ctl)) {
                close(ctl.fd);
                ctl.fd = -1;
            }
        }
        if (!(pf[0].revents & POLLIN))
            continue;
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof(si)) != sizeof(si))
            continue;
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            stop = true;
            continue;
        }
        if (si.ssi_signo != SIGCHLD)
            continue;
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
            if (p != web)
                continue; /* a dbupdate the console started */
            admin_error(NULL, "main: the web process %ld ended (%s %d)", (long)p,
                        WIFSIGNALED(st) ? "signal" : "status",
                        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            time_t now = time(NULL);
            if (now - restarts[nrestart % ADMIN_WEB_RESTARTS] < 60 &&
                nrestart >= ADMIN_WEB_RESTARTS) {
                admin_error(NULL, "main: the web process keeps ending; giving up");
                rc = 1;
                stop = true;
                web = -1;
                break;
            }
            restarts[nrestart++ % ADMIN_WEB_RESTARTS] = now;
            if (ctl.fd >= 0)
                close(ctl.fd);
            web = start_web(lfd, &ctl.fd, uid, gid, cert, key);
            if (web < 0) {
                rc = 1;
                stop = true;
            }
        }
    }
    if (web > 0) {
        kill(web, SIGTERM);
        int st;
        waitpid(web, &st, 0);
    }
    admin_error(NULL, "main: console stopped");
    if (pidfile != NULL)
        unlink(pidfile);
    return rc;
}

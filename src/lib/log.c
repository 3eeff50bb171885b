/* log - the process-wide log sinks. */
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"

struct sink {
    int fd;
    pid_t pipe_pid; /* the `|command` child, or 0 */
};

static struct sink sinks[LOG_SINK_COUNT] = {{-1, 0}, {-1, 0}, {-1, 0}, {-1, 0}, {-1, 0}};
static bool mirror_stderr;

const char *log_sink_name(enum log_sink sink)
{
    switch (sink) {
    case LOG_SINK_ACCESS:
        return "access";
    case LOG_SINK_DETECT:
        return "detect";
    case LOG_SINK_INFO:
        return "info";
    case LOG_SINK_ERROR:
        return "error";
    case LOG_SINK_AUTH:
        return "auth";
    default:
        return "SINK_???";
    }
}

static int make_parents(const char *path)
{
    char dir[4096];
    if (str_copy(dir, sizeof(dir), path) >= sizeof(dir)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static int open_pipe(const char *command, pid_t *pid)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    pid_t child = fork();
    if (child < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (child == 0) {
        dup2(fds[0], STDIN_FILENO);
        /* The logger must outlive a worker crash but not see our signals. */
        signal(SIGHUP, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", command, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    *pid = child;
    return fds[1];
}

int log_sink_open(enum log_sink sink, const char *dest, uid_t uid, gid_t gid)
{
    if ((unsigned)sink >= LOG_SINK_COUNT || !dest || !*dest) {
        errno = EINVAL;
        return -1;
    }
    int fd;
    pid_t pid = 0;
    if (dest[0] == '|') {
        fd = open_pipe(dest + 1, &pid);
    } else {
        if (make_parents(dest) < 0)
            return -1;
        fd = open(dest, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd >= 0 && uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
    }
    if (fd < 0)
        return -1;
    if (sinks[sink].fd >= 0)
        close(sinks[sink].fd); /* a pipe child sees EOF and exits */
    sinks[sink].fd = fd;
    sinks[sink].pipe_pid = pid;
    return 0;
}

void log_sink_close_all(void)
{
    for (int i = 0; i < LOG_SINK_COUNT; i++) {
        if (sinks[i].fd >= 0)
            close(sinks[i].fd);
        sinks[i].fd = -1;
        sinks[i].pipe_pid = 0;
    }
}

static void write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; /* a log that cannot be written must not stop traffic */
        }
        p += n;
        len -= (size_t)n;
    }
}

void log_sink_write(enum log_sink sink, const char *line, size_t len)
{
    if ((unsigned)sink >= LOG_SINK_COUNT)
        return;
    int fd = sinks[sink].fd;
    if (fd >= 0)
        write_all(fd, line, len);
    if (fd < 0 || (mirror_stderr && (sink == LOG_SINK_INFO || sink == LOG_SINK_ERROR)))
        write_all(STDERR_FILENO, line, len);
}

void log_set_stderr_mirror(bool on)
{
    mirror_stderr = on;
}

/* scand_supervise - the supervisor process of sekisho-scand (see
 * scand_supervise.h). Signals are taken synchronously (sigtimedwait with
 * SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR2 blocked), so there are no handlers and
 * no races between a death and a stop request. */
#include "scand/scand_supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/proc.h"
#include "scand/scand_log.h"

static int ready_wr = -1;    /* scanning process: its end of the readiness pipe */
static bool restarted_child; /* scanning process: not the first one */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void scand_supervise_ready(void)
{
    if (ready_wr < 0)
        return;
    char b = '1';
    ssize_t n = write(ready_wr, &b, 1);
    (void)n; /* a supervisor that is gone cannot be told */
    close(ready_wr);
    ready_wr = -1;
}

bool scand_supervise_restarted(void)
{
    return restarted_child;
}

/* spawn - fork a scanning process; 0 in it, its pid (or -1) here, with
 * the read end of its readiness pipe in *ready_rd. */
static pid_t spawn(bool restarted, int *ready_rd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        ready_wr = p[1];
        restarted_child = restarted;
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_UNBLOCK, &chld, NULL);
        return 0;
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    *ready_rd = p[0];
    return pid;
}

static void finish(scand_supervise_exit_fn *at_exit, void *arg, int code)
{
    if (at_exit)
        at_exit(arg);
    exit(code);
}

static int exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int scand_supervise(bool daemon, scand_supervise_exit_fn *at_exit, void *arg)
{
    int tell = -1;
    /* --daemon: the caller waits until the first scanning process is
     * ready (exit 0) or has failed (exit 1); output stays for the log. */
    if (daemon && proc_detach(true, &tell) < 0) {
        scand_log("###ERROR### cannot detach: %s", strerror(errno));
        finish(at_exit, arg, 1);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);

    pid_t child = 0;
    int ready_rd = -1;
    bool ever_ready = false, stopping = false;
    unsigned quick_deaths = 0;
    uint64_t started = 0, respawn_at = now_ms();
    for (;;) {
        uint64_t now = now_ms();
        if (child == 0 && !stopping && now >= respawn_at) {
            pid_t pid = spawn(ever_ready, &ready_rd);
            if (pid == 0)
                return 0; /* the scanning process */
            if (pid < 0) {
                scand_log("###ERROR### main: fork of the scanning process failed: %s",
                          strerror(errno));
                respawn_at = now + SCAND_SUPERVISE_BACKOFF_MS;
            } else {
                child = pid;
                started = now;
                if (ever_ready)
                    scand_log("main: scanning process restarted (pid=%d)", (int)pid);
            }
        }
        if (child == 0 && stopping)
            finish(at_exit, arg, 0);

        struct timespec tick = {0, SCAND_SUPERVISE_TICK_MS * 1000000L};
        siginfo_t si;
        int sig = sigtimedwait(&set, &si, &tick);
        if (ready_rd >= 0) {
            char b;
            ssize_t n = read(ready_rd, &b, 1);
            if (n == 1 || n == 0) {
                close(ready_rd);
                ready_rd = -1;
            }
            if (n == 1) {
                ever_ready = true;
                if (tell >= 0) {
                    (void)proc_ready(tell);
                    tell = -1;
                }
            }
        }
        if (sig == SIGTERM || sig == SIGINT) {
            stopping = true;
            if (child > 0)
                kill(child, sig);
        } else if (sig == SIGHUP && child > 0) {
            kill(child, SIGHUP);
        } else if (sig == SIGUSR2 && child > 0) {
            sigqueue(child, SIGUSR2, si.si_value); /* its value picks the directory */
        }

        int status;
        pid_t r;
        while ((r = waitpid(-1, &status, WNOHANG)) > 0) {
            if (r != child)
                continue;
            child = 0;
            if (ready_rd >= 0) {
                close(ready_rd);
                ready_rd = -1;
            }
            if (stopping)
                finish(at_exit, arg, exit_code(status));
            if (!ever_ready) /* the first one never came up: as without a supervisor */
                finish(at_exit, arg, exit_code(status));
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                scand_log("main: the scanning process (pid=%d) stopped; stopping", (int)r);
                finish(at_exit, arg, 0);
            }
            bool sig_death = WIFSIGNALED(status);
            int code = sig_death ? (WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
            int st = sig_death ? WTERMSIG(status) : WEXITSTATUS(status);
            /* The recovery lines of the proxies' workers (LOG-E19). One
             * group per death: with the backoff below at most one a
             * second, so a crash loop cannot flood the log. */
            scand_log("###ERROR### main:quit_signal:child(0) stopped. (sig=17[SIGCHLD], "
                      "si_code=%d[%s], status=%d%s%s%s, childid=0, cur_pid=%d, pid=%d)",
                      code,
                      code == CLD_EXITED   ? "CLD_EXITED"
                      : code == CLD_DUMPED ? "CLD_DUMPED"
                                           : "CLD_KILLED",
                      st, sig_death ? "[" : "", sig_death ? proc_signal_name(st) : "",
                      sig_death ? "]" : "", (int)getpid(), (int)r);
            if (code == CLD_DUMPED)
                scand_log("###ERROR### main:core dumped(child scanning process). Please send core "
                          "file(core or core.xxx) on the installation directory and "
                          "diag.tar.gz to support center.");
            else
                scand_log("###ERROR### main:child scanning process terminated abnormally (%s).",
                          sig_death ? proc_signal_name(st) : "exit");
            scand_log("###ERROR### Error recovery: restarting service...");
            uint64_t t = now_ms();
            quick_deaths = t - started < SCAND_SUPERVISE_BACKOFF_MS ? quick_deaths + 1 : 0;
            respawn_at = quick_deaths > 1 ? t + SCAND_SUPERVISE_BACKOFF_MS : t;
        }
    }
}

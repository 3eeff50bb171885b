/* master - the supervising process of one service. */
#include "master/master.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/svclog.h"
#include "core/version.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "lib/privdrop.h"
#include "lib/proc.h"
#include "lib/sock.h"
#include "lib/spoolfile.h"
#include "lib/pidfile.h"
#include "lib/svc_stats.h"
#include "master/relay_warning.h"
#include "master/service_switch.h"
#include "proxy/http/http_session.h"
#include "proxy/ftp/ftp_session.h"
#include "proxy/pop/pop_session.h"
#include "proxy/smtp/smtp_session.h"
#include "proxy/proxy_resources.h"
#include "proxy/proxy_authfail.h"
#include "proxy/proxy_slots.h"
#include "proxy/proxy_worker.h"

#define MASTER_MAX_WORKERS    64
#define MASTER_LISTEN_BACKLOG 1024
#define MIN_TMPDIR_FREE_KB    (5 * 1024) /* GEN-7: 5 MB */
#define RESPAWN_BACKOFF_MS    1000       /* a worker that dies this young is restarted later */

/* The EICAR test string, written into tmpdir at start to detect a
 * real-time scanner that would delete spool files (GEN-7 / LOG-E11). Kept
 * in two halves so this binary is not itself detected. */
static const char eicar_a[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-";
static const char eicar_b[] = "ANTIVIRUS-TEST-FILE!$H+H*";

struct worker_slot {
    pid_t pid;
    unsigned generation;
    uint64_t started_ms;
    uint64_t respawn_at_ms; /* 0 = running or not needed */
    unsigned quick_deaths;  /* consecutive deaths within RESPAWN_BACKOFF_MS of start */
};

struct master {
    const struct master_options *opt;
    struct config *cfg;
    struct proxy_resources *res;
    struct proxy_slots *slots;
    struct proxy_authfail *authfail;
    struct svc_stats *stats; /* <tmpdir>/stats.<svc>; NULL when it could not be made */
    int listen_fd;
    uid_t uid;
    gid_t gid;
    int nworkers;
    unsigned generation;
    struct worker_slot workers[MASTER_MAX_WORKERS];
    /* Workers of older generations still finishing their sessions. */
    pid_t retiring[MASTER_MAX_WORKERS * 4];
    int nretiring;
    bool stopping;
};

static const struct proxy_proto *proto_for(enum service svc)
{
    switch (svc) {
    case SVC_HTTP:
        return &http_proto;
    case SVC_SMTP:
        return &smtp_proto;
    case SVC_POP:
        return &pop_proto;
    case SVC_FTP:
        return &ftp_proto;
    default:
        return NULL;
    }
}

bool master_service_built(enum service svc)
{
    return proto_for(svc) != NULL;
}

static const char *cld_code_name(int code)
{
    switch (code) {
    case CLD_EXITED:
        return "CLD_EXITED";
    case CLD_KILLED:
        return "CLD_KILLED";
    case CLD_DUMPED:
        return "CLD_DUMPED";
    default:
        return "CLD_???";
    }
}

static int open_logs(const struct config *cfg, uid_t uid, gid_t gid)
{
    const char *dest[LOG_SINK_COUNT] = {cfg->access_log, cfg->detect_log, cfg->info_log,
                                        cfg->error_log, cfg->auth_log};
    for (int i = 0; i < LOG_SINK_COUNT; i++) {
        if (log_sink_open((enum log_sink)i, dest[i], uid, gid) < 0) {
            fprintf(stderr, "sekisho: cannot open %s log %s: %s\n", log_sink_name(i), dest[i],
                    strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* check_tmpdir - GEN-7 checks 2 and 3: enough free space, and no
 * real-time scanner removing what we write there. */
static int check_tmpdir(const struct config *cfg, uid_t uid, gid_t gid)
{
    if (spoolfile_prepare_dir(cfg->tmpdir, uid, gid) < 0) {
        svclog_error_errno(NULL, errno, "main: cannot prepare temporary directory [%s].",
                           cfg->tmpdir);
        return -1;
    }
    int64_t kb = spoolfile_free_kb(cfg->tmpdir);
    if (kb >= 0 && kb < MIN_TMPDIR_FREE_KB) {
        svclog_error(NULL,
                     "main:diskspace_check: not enough disk space in temporary directory [%s]. "
                     "(%lld kB free)",
                     cfg->tmpdir, (long long)kb);
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/.sekisho-rtcheck-%d", cfg->tmpdir, (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, eicar_a, sizeof(eicar_a) - 1) == (ssize_t)sizeof(eicar_a) - 1 &&
              write(fd, eicar_b, sizeof(eicar_b) - 1) == (ssize_t)sizeof(eicar_b) - 1;
    if (fd >= 0)
        close(fd);
    if (ok) {
        /* Give an on-access scanner a moment to act, then read it back. */
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        char back[128];
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ok = fd >= 0 &&
             read(fd, back, sizeof(back)) == (ssize_t)(sizeof(eicar_a) + sizeof(eicar_b) - 2);
        if (fd >= 0)
            close(fd);
    }
    unlink(path);
    if (!ok) {
        svclog_error(NULL,
                     "realthimescan_check : cannot open [%s]. Realtime virus scan seems be "
                     "enabled. Please stop realtime virus scan, or exclude scanning for temporary "
                     "directory [%s].",
                     path, cfg->tmpdir);
        return -1;
    }
    return 0;
}

static int resolve_user(const struct config *cfg, uid_t *uid, gid_t *gid)
{
    char err[256];
    if (privdrop_resolve(cfg->run_user, uid, gid, err, sizeof(err)) == 0)
        return 0;
    fprintf(stderr, "sekisho: run_user: %s\n", err);
    return -1;
}

static pid_t spawn_worker(struct master *m, int index)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* Child: unblock signals, become a worker. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    struct proxy_worker_env env = {
        .cfg = m->cfg,
        .res = m->res,
        .proto = proto_for(m->opt->svc),
        .slots = m->slots,
        .authfail = m->authfail,
        .stats = m->stats,
        .listen_fd = m->listen_fd,
        .index = index,
    };
    _exit(proxy_worker_main(&env));
}

static void start_workers(struct master *m)
{
    uint64_t now = ev_clock_ms();
    for (int i = 0; i < m->nworkers; i++) {
        pid_t pid = spawn_worker(m, i);
        if (pid < 0) {
            svclog_error_errno(NULL, errno, "main: fork of worker %d failed", i);
            m->workers[i].pid = 0;
            m->workers[i].respawn_at_ms = now + RESPAWN_BACKOFF_MS;
            continue;
        }
        m->workers[i] =
            (struct worker_slot){.pid = pid, .generation = m->generation, .started_ms = now};
    }
}

static void on_worker_exit(struct master *m, pid_t pid, const siginfo_t *si)
{
    uint32_t released = proxy_slots_reap(m->slots, pid);
    svc_stats_session_close(m->stats, released); /* the dead worker's sessions */
    for (int i = 0; i < m->nretiring; i++) {
        if (m->retiring[i] == pid) {
            m->retiring[i] = m->retiring[--m->nretiring];
            return;
        }
    }
    for (int i = 0; i < m->nworkers; i++) {
        struct worker_slot *w = &m->workers[i];
        if (w->pid != pid)
            continue;
        w->pid = 0;
        if (m->stopping)
            return;
        int code = si->si_code;
        int status = si->si_status;
        svclog_error(NULL,
                     "main:quit_signal:child(%d) stopped. (sig=17[SIGCHLD], si_code=%d[%s], "
                     "status=%d%s%s%s, childid=%d, cur_pid=%d, pid=%d)",
                     i, code, cld_code_name(code), status, code == CLD_EXITED ? "" : "[",
                     code == CLD_EXITED ? "" : proc_signal_name(status),
                     code == CLD_EXITED ? "" : "]", i, (int)getpid(), (int)pid);
        if (code == CLD_DUMPED)
            svclog_error(NULL, "main:core dumped(child proxy process). Please send core "
                               "file(core or core.xxx) on the installation directory and "
                               "diag.tar.gz to support center.");
        else
            svclog_error(NULL,
                         "main:child proxy process terminated abnormally (%s). %u session(s) "
                         "were cut.",
                         code == CLD_EXITED ? "exit" : proc_signal_name(status), released);
        svclog_error(NULL, "Error recovery: restarting service...");
        /* Replace at once; only a worker that keeps dying young (a crash
         * loop) is held back, so a bad build cannot fork-bomb the host. */
        uint64_t now = ev_clock_ms();
        w->quick_deaths = now - w->started_ms < RESPAWN_BACKOFF_MS ? w->quick_deaths + 1 : 0;
        w->respawn_at_ms = w->quick_deaths > 1 ? now + RESPAWN_BACKOFF_MS : now;
        return;
    }
}

static void respawn_due(struct master *m)
{
    uint64_t now = ev_clock_ms();
    for (int i = 0; i < m->nworkers; i++) {
        struct worker_slot *w = &m->workers[i];
        if (w->pid != 0 || w->respawn_at_ms == 0 || w->respawn_at_ms > now)
            continue;
        pid_t pid = spawn_worker(m, i);
        if (pid < 0) {
            w->respawn_at_ms = now + RESPAWN_BACKOFF_MS;
            continue;
        }
        unsigned quick = w->quick_deaths;
        *w = (struct worker_slot){
            .pid = pid, .generation = m->generation, .started_ms = now, .quick_deaths = quick};
        svclog_info(NULL, "main: worker %d restarted (pid=%d)", i, (int)pid);
    }
}

static void reap_children(struct master *m)
{
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
            return;
        on_worker_exit(m, si.si_pid, &si);
    }
}

/* reload - SIGHUP: validate the whole new configuration first; on any
 * error keep running with the old one. Then start a new generation of
 * workers and let the old one finish its sessions. */
static void reload(struct master *m)
{
    char *diag_text = NULL;
    size_t diag_len = 0;
    FILE *diag = open_memstream(&diag_text, &diag_len);
    struct config *cfg = diag ? config_load(m->opt->ini_path, m->opt->svc, diag) : NULL;
    struct proxy_resources *res = cfg ? proxy_resources_load(cfg, diag) : NULL;
    if (diag)
        fclose(diag);
    if (diag_text) {
        char *save = NULL;
        for (char *line = strtok_r(diag_text, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save))
            svclog_error(NULL, "main:reload: %s", line);
        free(diag_text);
    }
    if (!cfg || !res) {
        svclog_error(NULL, "main:reload: configuration %s refused; keeping the running one",
                     m->opt->ini_path);
        proxy_resources_free(res);
        config_free(cfg);
        return;
    }
    config_trace_keys(cfg);
    if (m->opt->port_override)
        cfg->svcport.port = (uint16_t)m->opt->port_override;
    if (cfg->svcport.port != m->cfg->svcport.port ||
        strcmp(cfg->svcport.addr, m->cfg->svcport.addr) != 0 ||
        strcmp(cfg->svcport.iface, m->cfg->svcport.iface) != 0) {
        svclog_error(NULL, "main:reload: svcport changes need a restart; still listening on "
                           "the old address");
        cfg->svcport = m->cfg->svcport;
    }
    relay_warning_check(m->cfg, cfg, !m->opt->verbose);
    proxy_resources_free(m->res);
    config_free(m->cfg);
    m->cfg = cfg;
    m->res = res;
    m->generation++;
    for (int i = 0; i < m->nworkers; i++) {
        if (m->workers[i].pid > 0 &&
            m->nretiring < (int)(sizeof(m->retiring) / sizeof(m->retiring[0]))) {
            kill(m->workers[i].pid, SIGTERM);
            m->retiring[m->nretiring++] = m->workers[i].pid;
        }
        m->workers[i].pid = 0;
    }
    start_workers(m);
    svclog_info(NULL, "main: configuration reloaded (generation %u)", m->generation);
}

static int live_children(const struct master *m)
{
    int n = m->nretiring;
    for (int i = 0; i < m->nworkers; i++)
        n += m->workers[i].pid > 0;
    return n;
}

static void stop_all(struct master *m, const siginfo_t *si)
{
    svclog_info(NULL,
                "main:signal_handler(sig=%d[%s], errno=0[Success], code=%d[%s], pid=%d, "
                "uid=%d)/cur_pid=%d",
                si->si_signo, proc_signal_name(si->si_signo), si->si_code,
                si->si_code == SI_USER ? "SI_USER" : "SI_???", (int)si->si_pid, (int)si->si_uid,
                (int)getpid());
    m->stopping = true;
    /* Close our copy of the listening socket once every worker has closed
     * theirs: the kernel then refuses new connections. */
    for (int i = 0; i < m->nworkers; i++)
        if (m->workers[i].pid > 0)
            kill(m->workers[i].pid, SIGTERM);
    for (int i = 0; i < m->nretiring; i++)
        kill(m->retiring[i], SIGTERM);
    close(m->listen_fd);
    m->listen_fd = -1;
}

static int supervise(struct master *m)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    int stop_signal = 0;
    for (;;) {
        struct timespec tick = {0, 100 * 1000 * 1000};
        siginfo_t si;
        int sig = sigtimedwait(&set, &si, &tick);
        if (sig == SIGCHLD || sig < 0)
            reap_children(m);
        if (sig == SIGTERM || sig == SIGINT) {
            if (!m->stopping) {
                stop_signal = sig;
                stop_all(m, &si);
            }
        } else if (sig == SIGHUP && !m->stopping) {
            reload(m);
        }
        if (m->stopping) {
            reap_children(m);
            if (live_children(m) == 0)
                break;
        } else {
            respawn_due(m);
        }
    }
    svclog_info(NULL, "main: ### STOP ### (ver=[%s], pid=%d, sig=%d[%s])", SEKISHO_VERSION,
                (int)getpid(), stop_signal, proc_signal_name(stop_signal));
    return 0;
}

/* become_daemon - detach from the terminal. The parent exits only once
 * the child has written the pid file (0) or failed to (1), so an rc script
 * that runs `sekisho --daemon --pidfile F` finds F as soon as it returns. */
static int become_daemon(const char *pidfile)
{
    int ready;
    if (proc_detach(false, &ready) < 0)
        return -1;
    if (pidfile && pidfile_write(pidfile, getpid()) < 0) {
        svclog_error_errno(NULL, errno, "main: cannot write pid file %s", pidfile);
        close(ready);
        return -1;
    }
    return proc_ready(ready);
}

static int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > MASTER_MAX_WORKERS ? MASTER_MAX_WORKERS : (int)n);
}

int master_run(const struct master_options *opt, struct config *cfg)
{
    struct master m = {.opt = opt, .cfg = cfg, .listen_fd = -1};
    signal(SIGPIPE, SIG_IGN);
    if (opt->port_override)
        cfg->svcport.port = (uint16_t)opt->port_override;
    if (resolve_user(cfg, &m.uid, &m.gid) < 0 || open_logs(cfg, m.uid, m.gid) < 0)
        return 1;
    svclog_set_listen_port(cfg->svcport.port);
    log_set_stderr_mirror(opt->verbose);
    svclog_info(NULL, "main: ### START ### (argv=[%s],ver=[%s],pid=%d)", opt->argv_text,
                SEKISHO_VERSION, (int)getpid());
    if (opt->verbose)
        svclog_info(NULL, "main:entering debug mode...");
    if (!service_switch_on(cfg))
        svclog_info(NULL,
                    "main: %s_service=no in %s; started anyway because the command line asked "
                    "for it (the rc script and dev/run-gateway.sh do not start it)",
                    service_name(opt->svc), cfg->ini_path);
    relay_warning_check(NULL, cfg, !opt->verbose);
    m.res = proxy_resources_load(cfg, stderr);
    if (!m.res)
        return 1;
    if (check_tmpdir(cfg, m.uid, m.gid) < 0 ||
        spoolfile_prepare_dir(cfg->quarantine_dir, m.uid, m.gid) < 0) {
        fprintf(stderr, "sekisho: temporary or quarantine directory unusable; see %s\n",
                cfg->error_log);
        return 1;
    }
    m.listen_fd = sock_listen(cfg->svcport.addr, cfg->svcport.iface, cfg->svcport.port,
                              MASTER_LISTEN_BACKLOG);
    if (m.listen_fd < 0) {
        int err = errno;
        svclog_error_errno(NULL, err,
                           "bind(port=%u,addr=%s). # Please check whether other service(mail/web "
                           "server,etc...) is already running on port %u.\"",
                           cfg->svcport.port, *cfg->svcport.addr ? cfg->svcport.addr : "0.0.0.0",
                           cfg->svcport.port);
        fprintf(stderr, "sekisho: cannot listen on %s:%u: %s\n",
                *cfg->svcport.addr ? cfg->svcport.addr : "0.0.0.0", cfg->svcport.port,
                strerror(err));
        return 1;
    }
    m.nworkers = cfg->workers ? (int)cfg->workers : cpu_count();
    if (m.nworkers > MASTER_MAX_WORKERS)
        m.nworkers = MASTER_MAX_WORKERS;
    m.slots = proxy_slots_new(cfg->pre_spawn);
    m.authfail = proxy_authfail_new();
    if (!m.slots || !m.authfail) {
        svclog_error_errno(NULL, errno, "main: cannot allocate %u session slots",
                           (unsigned)cfg->pre_spawn);
        return 1;
    }
    if (!opt->quiet) {
        char ip[SOCK_ADDRSTRLEN];
        uint16_t port;
        sock_local_text(m.listen_fd, ip, sizeof(ip), &port);
        printf("sekisho_%s: listening on %s:%u (%d workers, pre_spawn %u, user %s)\n",
               service_name(opt->svc), ip, port, m.nworkers, (unsigned)cfg->pre_spawn,
               m.uid == (uid_t)-1 ? "unchanged" : cfg->run_user);
        fflush(stdout);
    }
    if (opt->daemon) {
        if (become_daemon(opt->pidfile) < 0) {
            svclog_error_errno(NULL, errno, "main: cannot enter daemon mode");
            return 1;
        }
        svclog_info(NULL, "main: entering daemon mode. (daemon pid=%d)", (int)getpid());
    } else if (opt->pidfile && pidfile_write(opt->pidfile, getpid()) < 0) {
        int err = errno;
        svclog_error_errno(NULL, err, "main: cannot write pid file %s", opt->pidfile);
        fprintf(stderr, "sekisho: cannot write pid file %s: %s\n", opt->pidfile, strerror(err));
        return 1;
    }
    if (privdrop_to(m.uid, m.gid) < 0) {
        svclog_error_errno(NULL, errno, "main: cannot drop privileges to %s", cfg->run_user);
        return 1;
    }
    /* As the user the workers run as: what it creates is theirs. */
    const struct proxy_proto *proto = proto_for(opt->svc);
    if (proto->service_init && proto->service_init(cfg) < 0) {
        svclog_error_errno(NULL, errno, "main: %s: service state in [%s] cannot be prepared",
                           proto->name, cfg->tmpdir);
        fprintf(stderr, "sekisho: %s: service state in %s cannot be prepared: %s\n", proto->name,
                cfg->tmpdir, strerror(errno));
        return 1;
    }
    /* The status counters (console, /metrics): created as run_user, a
     * new file at each start; the workers inherit the mapping. Without
     * them the service still runs. */
    m.stats = svc_stats_create(cfg->tmpdir, service_name(opt->svc), getpid(), time(NULL));
    if (!m.stats)
        svclog_error_errno(NULL, errno, "main: status counters in [%s] cannot be created",
                           cfg->tmpdir);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    start_workers(&m);
    svclog_info(NULL,
                "main: accept_loop(sock=%d,pid=%d). Starting to accept connection on each proxy "
                "process.",
                m.listen_fd, (int)getpid());
    int rc = supervise(&m);
    proxy_slots_free(m.slots);
    proxy_authfail_free(m.authfail);
    svc_stats_close(m.stats);
    proxy_resources_free(m.res);
    config_free(m.cfg);
    log_sink_close_all();
    return rc;
}

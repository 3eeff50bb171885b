/* dbupdate - definition updates (CLI-3, G-24, KB-7; docs/man/dbupdate.1.md).
 *
 *   dbupdate [options]              update now from the network
 *   dbupdate [options] BUNDLE       import an offline bundle (.tar or .tar.gz)
 *   dbupdate --auto [options]       the scheduled run: a random delay first,
 *                                   output only on failure
 *   dbupdate --show-version         each database's version, signatures, build time
 *   dbupdate --help
 * options: -f INI (default conf/sekisho.ini), -c DBUPDATE_CONF (default
 *   <prefix>/conf/dbupdate.conf), --timeout=MINUTES or --timeout=Ns (default
 *   15 minutes), --delay=SECONDS (--auto's longest random delay, default 600), -v
 *
 * Exit codes: 0 no new updates, 1 failed (reason on stderr and in
 * log/dbupdate.log), 2 updated; a signal gives 128 + its number.
 *
 * This process takes the update lock, forks the update (dbu_worker.c) and
 * waits for it at most --timeout; when the wait ends first it says so and
 * exits 1 while the update goes on in the background, and a second
 * dbupdate started meanwhile reports that update's progress and waits for
 * its result (G-24). A signal to this process stops the update (which
 * leaves databases/ as it was) and is then re-raised.
 *
 * What it owns: the command line, the paths, the wait. What it does not
 * do: nothing of the update itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clam/clam_db.h"
#include "core/config.h"
#include "lib/file_read.h"
#include "lib/str.h"
#include "proto/db_version.h"
#include "tools/dbupdate/dbu_log.h"
#include "core/dbu_status.h"
#include "tools/dbupdate/dbupdate.h"

#define DBU_DEFAULT_INI       "conf/sekisho.ini"
#define DBU_DEFAULT_TIMEOUT_S (15 * 60) /* G-24 */
#define DBU_TIMEOUT_MAX_S     (24 * 60 * 60)
#define DBU_DEFAULT_DELAY_S   600 /* --auto: spread the load on the mirrors */
#define DBU_POLL_MS           200
/* After a signal, how long the update may take to stop (it finishes a
 * switch and scand's reload first, see dbu_worker.c). */
#define DBU_STOP_WAIT_S (16 * 60)
/* The update runs below the scanners: loading a test engine is a minute
 * of CPU that scanning needs more. */
#define DBU_NICE 10

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dbupdate [-f INI] [-c DBUPDATE_CONF] [--timeout=MINUTES|Ns] [-v] [BUNDLE]\n"
            "       dbupdate --auto [--delay=SECONDS] [-f INI] [-c DBUPDATE_CONF] [--timeout=...]\n"
            "       dbupdate --show-version [-f INI]\n"
            "       dbupdate --help\n"
            "Updates the virus definitions in the database directory of INI (default\n"
            "conf/sekisho.ini) from the network, as conf/dbupdate.conf says, or from the offline\n"
            "BUNDLE (a .tar or .tar.gz of database files), verifies them by loading, installs\n"
            "them and has sekisho-scand load them.\n"
            "  --auto          the scheduled run: waits a random time up to --delay first\n"
            "                  (default %d s) and prints only failures\n"
            "  --timeout=T     wait at most T minutes (or Ns seconds; default 15 minutes); then\n"
            "                  exit 1 while the update goes on in the background; running\n"
            "                  dbupdate again shows its progress\n"
            "  --show-version  each database's version, signature count and build time\n"
            "exit status: 0 no new updates, 1 failed (see the output and log/dbupdate.log),\n"
            "             2 definitions updated; above 128: stopped by signal (status - 128)\n",
            DBU_DEFAULT_DELAY_S);
}

/* --timeout=N (minutes, G-24) or Ns (seconds). */
static int parse_timeout(const char *s, unsigned *seconds)
{
    size_t len = strlen(s);
    bool secs = len > 0 && s[len - 1] == 's';
    uint64_t v;
    if (!str_to_u64(str_make(s, len - secs), DBU_TIMEOUT_MAX_S, &v) || v == 0)
        return -1;
    v = secs ? v : v * 60;
    if (v > DBU_TIMEOUT_MAX_S)
        return -1;
    *seconds = (unsigned)v;
    return 0;
}

static int path_join(char *out, size_t cap, const char *dir, const char *rel)
{
    if (rel[0] == '/')
        return (size_t)snprintf(out, cap, "%s", rel) < cap ? 0 : -1;
    return (size_t)snprintf(out, cap, "%s/%s", dir, rel) < cap ? 0 : -1;
}

/* load_settings - sekisho.ini [common] and dbupdate.conf into ctx. */
static int load_settings(struct dbu_ctx *ctx, const char *conf_opt)
{
    struct config *cfg = config_load(ctx->ini_path, SVC_COMMON, stderr);
    if (!cfg) {
        fprintf(stderr, "dbupdate: %s: cannot load the configuration (see above)\n", ctx->ini_path);
        return -1;
    }
    config_trace_keys(cfg); /* tests/check-key-coverage.py: what dbupdate acted on */
    int rc = -1;
    char err[DBU_ERR_MAX];
    snprintf(ctx->prefix, sizeof(ctx->prefix), "%s", cfg->prefix);
    if (path_join(ctx->databases, sizeof(ctx->databases), cfg->prefix, cfg->database_dir) != 0 ||
        path_join(ctx->scand_socket, sizeof(ctx->scand_socket), cfg->prefix, cfg->scand_socket) !=
            0)
        goto done;
    for (size_t n = strlen(ctx->databases); n > 1 && ctx->databases[n - 1] == '/'; n--)
        ctx->databases[n - 1] = '\0';
    if ((size_t)snprintf(ctx->staging, sizeof(ctx->staging), "%s.staging", ctx->databases) >=
            sizeof(ctx->staging) ||
        (size_t)snprintf(ctx->previous, sizeof(ctx->previous), "%s.previous", ctx->databases) >=
            sizeof(ctx->previous) ||
        (size_t)snprintf(ctx->tmp, sizeof(ctx->tmp), "%s.tmp", ctx->databases) >=
            sizeof(ctx->tmp) ||
        path_join(ctx->lock_path, sizeof(ctx->lock_path), cfg->prefix, "run/dbupdate.lock") != 0 ||
        path_join(ctx->status_path, sizeof(ctx->status_path), cfg->prefix, "run/dbupdate.status") !=
            0 ||
        path_join(ctx->log_path, sizeof(ctx->log_path), cfg->prefix, "log/dbupdate.log") != 0 ||
        path_join(ctx->fc_log_path, sizeof(ctx->fc_log_path), cfg->prefix, "log/freshclam.log") !=
            0 ||
        path_join(ctx->conf_path, sizeof(ctx->conf_path), cfg->prefix,
                  conf_opt ? conf_opt : "conf/dbupdate.conf") != 0) {
        fprintf(stderr, "dbupdate: a path under %s is too long\n", cfg->prefix);
        goto done;
    }
    if (conf_opt && conf_opt[0] != '/')
        snprintf(ctx->conf_path, sizeof(ctx->conf_path), "%s", conf_opt); /* as given, from here */
    snprintf(ctx->ini_updateurl, sizeof(ctx->ini_updateurl), "%s", cfg->UPDATEURL);
    if (dbu_proxy_list_parse(cfg->orspservice_http_proxy, strlen(cfg->orspservice_http_proxy),
                             ctx->proxies, DBU_PROXIES_MAX, &ctx->nproxies, err,
                             sizeof(err)) != 0) {
        fprintf(stderr, "dbupdate: %s: orspservice_http_proxy: %s\n", ctx->ini_path, err);
        goto done;
    }

    dbupdate_conf_defaults(&ctx->conf);
    size_t len = 0;
    char *text = file_read_all(ctx->conf_path, DBU_CONF_FILE_MAX, &len, err, sizeof(err));
    if (!text && errno != ENOENT) {
        fprintf(stderr, "dbupdate: %s: %s\n", ctx->conf_path, err);
        goto done;
    }
    if (text) {
        unsigned line = 0;
        int prc = dbupdate_conf_parse(text, len, &ctx->conf, &line, err, sizeof(err));
        free(text);
        if (prc != 0) {
            if (line)
                fprintf(stderr, "dbupdate: %s:%u: %s\n", ctx->conf_path, line, err);
            else
                fprintf(stderr, "dbupdate: %s: %s\n", ctx->conf_path, err);
            goto done;
        }
    }
    rc = 0;
done:
    config_free(cfg);
    return rc;
}

static int show_version(const struct dbu_ctx *ctx)
{
    char err[512];
    if (clam_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "dbupdate: %s\n", err);
        return DBU_EXIT_FAILED;
    }
    static struct db_version_entry list[DB_VERSION_ENTRIES_MAX];
    size_t n = 0;
    if (clam_db_list(ctx->databases, list, DB_VERSION_ENTRIES_MAX, &n, err, sizeof(err)) != 0) {
        fprintf(stderr, "dbupdate: %s: %s\n", ctx->databases, err);
        return DBU_EXIT_FAILED;
    }
    printf("databases: %s\n", ctx->databases);
    for (size_t i = 0; i < n; i++) {
        char line[256];
        db_version_format(&list[i], line, sizeof(line));
        printf("%s\n", line);
    }
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !got_signal) {
    }
}

static void print_stage(const struct dbu_status *st, bool quiet, char *last, size_t cap)
{
    if (quiet || st->stage[0] == '\0' || strcmp(st->stage, "finished") == 0 ||
        strcmp(st->stage, last) == 0)
        return;
    printf("dbupdate: %s\n", st->stage);
    fflush(stdout);
    snprintf(last, cap, "%s", st->stage);
}

/* report - the result of a finished update, on stdout or stderr. */
static int report(const struct dbu_ctx *ctx, int code)
{
    struct dbu_status st;
    const char *msg = "";
    if (dbu_status_read(ctx->status_path, &st) == 0)
        msg = st.message;
    if (code == DBU_EXIT_FAILED || !ctx->quiet)
        fprintf(code == DBU_EXIT_FAILED ? stderr : stdout, "dbupdate: %s\n",
                msg[0] ? msg : "the update ended without saying why (see log/dbupdate.log)");
    return code;
}

/* stop_and_raise - a signal reached us: stop the update, then die of the
 * same signal so the caller sees 128 + its number. */
static void stop_and_raise(pid_t child, int sig)
{
    if (child > 0) {
        kill(child, SIGTERM);
        for (long waited = 0; waited < DBU_STOP_WAIT_S * 1000L; waited += DBU_POLL_MS) {
            if (waitpid(child, NULL, WNOHANG) != 0)
                break;
            struct timespec ts = {.tv_nsec = DBU_POLL_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    dbu_log("stopped by signal %d", sig);
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

/* follow_other - another dbupdate holds the lock: report its progress and
 * wait for its result at most timeout_s (G-24). */
static int follow_other(const struct dbu_ctx *ctx, int lock_fd, unsigned timeout_s)
{
    struct dbu_status st;
    char last[DBU_STAGE_MAX] = "";
    if (dbu_status_read(ctx->status_path, &st) == 0 && st.result < 0) {
        char when[32] = "?";
        struct tm tm;
        if (localtime_r(&st.started, &tm))
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        printf("dbupdate: an update is in progress (pid %ld, started %s): %s\n", st.pid, when,
               st.stage);
        fflush(stdout);
        snprintf(last, sizeof(last), "%s", st.stage);
    } else {
        printf("dbupdate: an update is in progress\n");
    }
    for (long waited = 0; waited < (long)timeout_s * 1000; waited += DBU_POLL_MS) {
        if (got_signal) {
            dbu_log("stopped waiting for the update in progress: signal %d", (int)got_signal);
            signal(got_signal, SIG_DFL);
            raise(got_signal);
        }
        int r = dbu_lock_try(lock_fd);
        if (r != 0) {
            if (r < 0 || dbu_status_read(ctx->status_path, &st) != 0 || st.result < 0) {
                fprintf(stderr, "dbupdate: the update in progress ended without a result (see "
                                "log/dbupdate.log)\n");
                return DBU_EXIT_FAILED;
            }
            return report(ctx, st.result);
        }
        if (dbu_status_read(ctx->status_path, &st) == 0)
            print_stage(&st, false, last, sizeof(last));
        sleep_ms(DBU_POLL_MS);
    }
    fprintf(stderr,
            "dbupdate: timeout: the update in progress has not finished (%s); it goes on in the "
            "background; run dbupdate again to see its progress\n",
            last[0] ? last : "no progress reported");
    return DBU_EXIT_FAILED;
}

static pid_t start_update(struct dbu_ctx *ctx, int lock_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* The update: its own session, so it outlives this process after a
     * timeout; no terminal: stdout (libfreshclam's copies of what it logs)
     * to /dev/null, stderr (a crash or sanitizer report) to its log. */
    setsid();
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = open(ctx->fc_log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    int null_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0)
        dup2(null, STDIN_FILENO);
    if (null_out >= 0)
        dup2(null_out, STDOUT_FILENO);
    if (out >= 0)
        dup2(out, STDERR_FILENO);
    if (setpriority(PRIO_PROCESS, 0, DBU_NICE) != 0) {
        /* not fatal: the update only competes harder with the scanners */
    }
    (void)lock_fd; /* inherited: the lock stays held while the update runs */
    _exit(dbu_worker_run(ctx));
}

static int wait_update(struct dbu_ctx *ctx, pid_t child, unsigned timeout_s)
{
    char last[DBU_STAGE_MAX] = "";
    for (long waited = 0; waited < (long)timeout_s * 1000; waited += DBU_POLL_MS) {
        if (got_signal)
            stop_and_raise(child, got_signal);
        int wst;
        pid_t r = waitpid(child, &wst, WNOHANG);
        if (r == child) {
            if (WIFSIGNALED(wst)) {
                fprintf(stderr, "dbupdate: the update was stopped by signal %d\n", WTERMSIG(wst));
                dbu_log("the update (pid %ld) was stopped by signal %d", (long)child,
                        WTERMSIG(wst));
                return 128 + WTERMSIG(wst);
            }
            return report(ctx, WEXITSTATUS(wst));
        }
        struct dbu_status st;
        if (dbu_status_read(ctx->status_path, &st) == 0 && st.pid == (long)child)
            print_stage(&st, ctx->quiet, last, sizeof(last));
        sleep_ms(DBU_POLL_MS);
    }
    fprintf(stderr,
            "dbupdate: timeout: the update has not finished within %u s (%s); it goes on in the "
            "background (pid %ld); run dbupdate again to see its progress\n",
            timeout_s, last[0] ? last : "starting", (long)child);
    dbu_log("timeout after %u s: the update (pid %ld) goes on in the background", timeout_s,
            (long)child);
    return DBU_EXIT_FAILED;
}

int main(int argc, char **argv)
{
    static struct dbu_ctx ctx;
    snprintf(ctx.ini_path, sizeof(ctx.ini_path), "%s", DBU_DEFAULT_INI);
    const char *conf_opt = NULL;
    unsigned timeout_s = DBU_DEFAULT_TIMEOUT_S, delay_s = DBU_DEFAULT_DELAY_S;
    bool show = false, auto_run = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t v;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--auto") == 0) {
            auto_run = true;
        } else if (strcmp(a, "--show-version") == 0) {
            show = true;
        } else if (strcmp(a, "-v") == 0) {
            ctx.verbose = true;
        } else if (strncmp(a, "--timeout=", 10) == 0) {
            if (parse_timeout(a + 10, &timeout_s) != 0) {
                fprintf(stderr, "dbupdate: --timeout=%s: give minutes (1-1440) or seconds as Ns\n",
                        a + 10);
                return DBU_EXIT_FAILED;
            }
        } else if (strncmp(a, "--delay=", 8) == 0) {
            if (!str_to_u64(str_from_cstr(a + 8), DBU_TIMEOUT_MAX_S, &v)) {
                fprintf(stderr, "dbupdate: --delay=%s: give seconds (0-86400)\n", a + 8);
                return DBU_EXIT_FAILED;
            }
            delay_s = (unsigned)v;
        } else if ((strcmp(a, "-f") == 0 || strcmp(a, "-c") == 0) && next) {
            if (a[1] == 'f')
                snprintf(ctx.ini_path, sizeof(ctx.ini_path), "%s", next);
            else
                conf_opt = next;
            i++;
        } else {
            fprintf(stderr, "dbupdate: unknown option %s\n", a);
            usage(stderr);
            return DBU_EXIT_FAILED;
        }
    }
    if (argc - i > 1 || (argc - i == 1 && (show || auto_run))) {
        usage(stderr);
        return DBU_EXIT_FAILED;
    }
    if (argc - i == 1) {
        ctx.source = DBU_SOURCE_BUNDLE;
        /* Absolute: the update runs in the database directory. */
        char *abs = realpath(argv[i], NULL);
        if (!abs || strlen(abs) >= sizeof(ctx.bundle)) {
            fprintf(stderr, "dbupdate: %s: %s\n", argv[i], abs ? "path too long" : strerror(errno));
            free(abs);
            return DBU_EXIT_FAILED;
        }
        snprintf(ctx.bundle, sizeof(ctx.bundle), "%s", abs);
        free(abs);
    }
    ctx.quiet = auto_run;
    if (load_settings(&ctx, conf_opt) != 0)
        return DBU_EXIT_FAILED;
    if (show)
        return show_version(&ctx);

    umask(022); /* sekisho-scand, another user, reads what is written */
    if (dbu_log_open(ctx.log_path) != 0)
        fprintf(stderr, "dbupdate: %s: %s (going on without it)\n", ctx.log_path, strerror(errno));
    char run_dir[DBU_PATH_MAX + 8];
    snprintf(run_dir, sizeof(run_dir), "%s/run", ctx.prefix);
    mkdir(run_dir, 0755);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    if (auto_run && delay_s > 0) {
        unsigned r = 0;
        if (getrandom(&r, sizeof(r), 0) != sizeof(r))
            r = (unsigned)getpid();
        unsigned wait_s = r % (delay_s + 1);
        dbu_log("automatic update: starting in %u s (random delay of at most %u s)", wait_s,
                delay_s);
        sleep_ms((long)wait_s * 1000);
        if (got_signal)
            stop_and_raise(0, got_signal);
    }

    int lock_fd = dbu_lock_open(ctx.lock_path);
    if (lock_fd < 0) {
        fprintf(stderr, "dbupdate: %s: %s\n", ctx.lock_path, strerror(errno));
        dbu_log("failed: %s: %s", ctx.lock_path, strerror(errno));
        return DBU_EXIT_FAILED;
    }
    int r = dbu_lock_try(lock_fd);
    if (r < 0) {
        fprintf(stderr, "dbupdate: %s: %s\n", ctx.lock_path, strerror(errno));
        return DBU_EXIT_FAILED;
    }
    if (r == 0) {
        int code = follow_other(&ctx, lock_fd, timeout_s);
        if (ctx.source == DBU_SOURCE_BUNDLE)
            fprintf(stderr, "dbupdate: %s was not imported: run dbupdate again for it\n",
                    ctx.bundle);
        return ctx.source == DBU_SOURCE_BUNDLE ? DBU_EXIT_FAILED : code;
    }
    pid_t child = start_update(&ctx, lock_fd);
    if (child < 0) {
        fprintf(stderr, "dbupdate: fork: %s\n", strerror(errno));
        return DBU_EXIT_FAILED;
    }
    return wait_update(&ctx, child, timeout_s);
}

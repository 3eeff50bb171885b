/* sekisho-scand - the scanning daemon, the only process linking libclamav.
 *
 * What it does: parses the command line, loads the definitions, binds the
 * socket, drops privileges (when started as root with --user), optionally
 * daemonizes, prints its start line and serves (scand_server) until
 * SIGTERM. With --bench it instead loads the definitions, scans one file
 * N times through one scan path and prints figures (bench/scan.sh).
 *
 *   sekisho-scand [--socket PATH] [--databases DIR] [--threads N]
 *                 [--mode fmap|desc] [--user NAME] [--daemon] [-v] [-h]
 *   sekisho-scand --bench FILE... [--mode fmap|desc|fmap,desc] [--iterations N]
 *                 [--databases DIR]
 *   sekisho-scand --ceiling DIR [--threads N] [--seconds S] [--path bare|engine|bare,engine]
 *                 [--stamp head|none] [--databases DIR]
 *   sekisho-scand ... --ceiling-first DIR [--seconds S]   (the daemon, measured first)
 *
 * The process started becomes the supervisor (scand_supervise.c) once the
 * socket is bound and privileges dropped; each scanning process it forks
 * loads the definitions and serves (serve()).
 *
 * What it owns: the process: signals, privileges, the engine slot.
 * What it does not do: no socket or scan logic (scand_server.c, engine.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clam/clam_db.h"
#include "core/config.h"
#include "lib/buf.h"
#include "lib/engine_mark.h"
#include "lib/memtune.h"
#include "lib/privdrop.h"
#include "lib/str.h"
#include "proto/scanreq.h"
#include "scand/engine.h"
#include "scand/ceiling_rerun.h"
#include "scand/scand_ceiling.h"
#include "scand/scand_log.h"
#include "scand/scan_pool.h"
#include "scand/scand_server.h"
#include "scand/scand_supervise.h"
#include "scand/scand_tmpdir.h"

#define SCAND_DEFAULT_SOCKET    "run/sekisho-scand.sock"
#define SCAND_DEFAULT_DATABASES "databases"
#define SCAND_DEFAULT_TMPDIR    "/var/tmp/sekisho" /* tmpdir's default (config_keys.def) */
#define SCAND_MIN_THREADS       2                  /* GEN-5: at least 2 scanners */
#define SCAND_BENCH_ITER_MAX    1000000
#define SCAND_BENCH_FILES_MAX   16
/* Without --iterations, each file is scanned about this many bytes' worth
 * (at least 3 and at most 1000 times), so small and large files both give
 * a stable figure in seconds. */
#define SCAND_BENCH_AUTO_BYTES (200.0 * 1024 * 1024)
#define SCAND_BENCH_AUTO_MIN   3
#define SCAND_BENCH_AUTO_MAX   1000
/* --ceiling-first directories at most (the benches use two: 23 KiB, 1 MiB). */
#define SCAND_CEILING_FIRST_MAX 4

struct options {
    const char *socket_path;
    const char *databases;
    const char *user;
    const char *tmpdir;
    const char *bench_files[SCAND_BENCH_FILES_MAX];
    unsigned nbench;
    unsigned threads;
    unsigned iterations;   /* 0 = automatic */
    uint64_t max_filesize; /* scand_max_filesize; 0 = CLAM_MAX_FILESIZE */
    enum engine_scan_mode mode;
    bool bench_modes[2]; /* indexed by enum engine_scan_mode */
    bool threads_given;
    struct ceiling_options ceiling; /* --ceiling DIR: ceiling.dir != NULL */
    /* --ceiling-first DIR (repeatable): the daemon measures, then serves */
    const char *ceiling_first[SCAND_CEILING_FIRST_MAX];
    unsigned nceiling_first;
    bool daemon;
    bool verbose;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sekisho-scand [-f INI] [--socket PATH] [--databases DIR] [--threads N]\n"
               "                     [--tmpdir DIR] [--mode fmap|desc] [--user NAME] [--daemon]\n"
               "                     [-v] [-h]\n"
               "       sekisho-scand --bench FILE... [--mode fmap|desc|fmap,desc]\n"
               "                     [--iterations N] [--databases DIR]\n"
               "       sekisho-scand --ceiling DIR [--threads N] [--seconds S]\n"
               "                     [--path bare|engine|bare,engine] [--stamp head|none]\n"
               "                     [--databases DIR]\n"
               "       sekisho-scand ... --ceiling-first DIR [--seconds S]\n"
               "  -f INI            read scand_socket, database_dir, scand_threads, tmpdir,\n"
               "                    run_user and scand_max_filesize\n"
               "                    from [common] of sekisho.ini (later options override)\n"
               "  --socket PATH     UNIX socket to listen on (default " SCAND_DEFAULT_SOCKET ")\n"
               "  --databases DIR   definitions directory (default " SCAND_DEFAULT_DATABASES ")\n"
               "  --threads N       scanner threads (default: CPUs, at least 2)\n"
               "  --tmpdir DIR      libclamav's temporary files go to DIR/scand (default\n"
               "                    " SCAND_DEFAULT_TMPDIR ", the proxies' spool directory)\n"
               "  --mode fmap|desc  scan path: mmap + cl_fmap_open_memory (default) or\n"
               "                    cl_scandesc_callback\n"
               "  --user NAME       drop to this user after binding and loading (when root)\n"
               "  --daemon          detach from the terminal\n"
               "  -v                log every scan\n"
               "  --bench FILE      (repeatable) scan FILE --iterations times (default: about\n"
               "                    200 MB worth, 3..1000) in each --mode, print MB/s\n"
               "  --ceiling DIR     scan the files of DIR with --threads threads for --seconds\n"
               "                    (default 10) along each --path (default bare,engine: a bare\n"
               "                    libclamav loop, then scand's own scan), each content new\n"
               "                    (--stamp head: a nonce over its first 16 bytes; none: each\n"
               "                    file once), print scans/s and CPU per scan\n"
               "  --ceiling-first DIR  (up to 4) the daemon: before it serves, the --ceiling bare\n"
               "                    path on the engine it has just loaded, in its own process\n"
               "                    (bench/: a yardstick with the same engine memory as the\n"
               "                    scans); one ceiling: line per DIR on stdout\n"
               "signals: SIGHUP reloads the definitions, SIGTERM stops after the queued scans;\n"
               "with --ceiling-first, SIGUSR2 measures again (sigqueue value N: the Nth DIR only)\n"
               "a supervisor process restarts the scanning process when it dies\n");
}

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    uint64_t v;
    if (!str_to_u64(str_from_cstr(s), max, &v) || v == 0)
        return false;
    *out = (unsigned)v;
    return true;
}

/* The configuration given with -f: its strings are the options' values
 * for the life of the process. */
static struct config *ini_config;

static int parse_options(int argc, char **argv, struct options *o)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    memset(o, 0, sizeof(*o));
    o->socket_path = SCAND_DEFAULT_SOCKET;
    o->databases = SCAND_DEFAULT_DATABASES;
    o->tmpdir = SCAND_DEFAULT_TMPDIR;
    o->threads = cpus > SCAND_MIN_THREADS ? (unsigned)cpus : SCAND_MIN_THREADS;
    o->mode = ENGINE_SCAN_FMAP;
    o->ceiling.seconds = 10;
    o->ceiling.stamp = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "-v") == 0) {
            o->verbose = true;
            takes = false;
        } else if (strcmp(a, "--daemon") == 0) {
            o->daemon = true;
            takes = false;
        } else if (v == NULL) {
            fprintf(stderr, "sekisho-scand: %s needs a value\n", a);
            return -1;
        } else if (strcmp(a, "-f") == 0) {
            /* The [common] keys scand_socket, database_dir, scand_threads
             * and run_user; options after -f override them. The snapshot
             * lives as long as the process (its strings are used), held by
             * ini_config so that it stays reachable. */
            if (ini_config) {
                fprintf(stderr, "sekisho-scand: -f given twice\n");
                return -1;
            }
            struct config *cfg = ini_config = config_load(v, SVC_COMMON, stderr);
            if (!cfg) {
                fprintf(stderr, "sekisho-scand: %s: configuration refused\n", v);
                return -1;
            }
            config_trace_keys(cfg);
            o->socket_path = cfg->scand_socket;
            o->databases = cfg->database_dir;
            o->tmpdir = cfg->tmpdir;
            if (cfg->scand_threads)
                o->threads = cfg->scand_threads;
            o->max_filesize = cfg->scand_max_filesize;
            if (geteuid() == 0 && *cfg->run_user)
                o->user = cfg->run_user;
        } else if (strcmp(a, "--socket") == 0) {
            o->socket_path = v;
        } else if (strcmp(a, "--databases") == 0) {
            o->databases = v;
        } else if (strcmp(a, "--tmpdir") == 0) {
            o->tmpdir = v;
        } else if (strcmp(a, "--user") == 0) {
            o->user = v;
        } else if (strcmp(a, "--bench") == 0) {
            if (o->nbench == SCAND_BENCH_FILES_MAX) {
                fprintf(stderr, "sekisho-scand: at most %d --bench files\n", SCAND_BENCH_FILES_MAX);
                return -1;
            }
            o->bench_files[o->nbench++] = v;
        } else if (strcmp(a, "--threads") == 0) {
            if (!parse_uint(v, SCAN_POOL_THREADS_MAX, &o->threads)) {
                fprintf(stderr, "sekisho-scand: --threads wants 1..%d\n", SCAN_POOL_THREADS_MAX);
                return -1;
            }
            o->threads_given = true;
        } else if (strcmp(a, "--ceiling") == 0) {
            o->ceiling.dir = v;
        } else if (strcmp(a, "--ceiling-first") == 0) {
            if (o->nceiling_first == SCAND_CEILING_FIRST_MAX) {
                fprintf(stderr, "sekisho-scand: at most %d --ceiling-first\n",
                        SCAND_CEILING_FIRST_MAX);
                return -1;
            }
            o->ceiling_first[o->nceiling_first++] = v;
        } else if (strcmp(a, "--seconds") == 0) {
            unsigned secs;
            if (!parse_uint(v, 86400, &secs)) {
                fprintf(stderr, "sekisho-scand: --seconds wants 1..86400\n");
                return -1;
            }
            o->ceiling.seconds = secs;
        } else if (strcmp(a, "--path") == 0) {
            o->ceiling.path_bare = strcmp(v, "bare") == 0 || strcmp(v, "bare,engine") == 0;
            o->ceiling.path_engine = strcmp(v, "engine") == 0 || strcmp(v, "bare,engine") == 0;
            if (!o->ceiling.path_bare && !o->ceiling.path_engine) {
                fprintf(stderr, "sekisho-scand: --path is bare, engine or bare,engine\n");
                return -1;
            }
        } else if (strcmp(a, "--stamp") == 0) {
            if (strcmp(v, "head") != 0 && strcmp(v, "none") != 0) {
                fprintf(stderr, "sekisho-scand: --stamp is head or none\n");
                return -1;
            }
            o->ceiling.stamp = strcmp(v, "head") == 0;
        } else if (strcmp(a, "--iterations") == 0) {
            if (!parse_uint(v, SCAND_BENCH_ITER_MAX, &o->iterations)) {
                fprintf(stderr, "sekisho-scand: --iterations wants 1..%d\n", SCAND_BENCH_ITER_MAX);
                return -1;
            }
        } else if (strcmp(a, "--mode") == 0) {
            /* One mode for the daemon; the benchmark takes "fmap,desc". */
            o->bench_modes[ENGINE_SCAN_FMAP] = o->bench_modes[ENGINE_SCAN_DESC] = false;
            if (strcmp(v, "fmap") == 0) {
                o->mode = ENGINE_SCAN_FMAP;
            } else if (strcmp(v, "desc") == 0) {
                o->mode = ENGINE_SCAN_DESC;
            } else if (strcmp(v, "fmap,desc") == 0 || strcmp(v, "desc,fmap") == 0) {
                o->bench_modes[ENGINE_SCAN_DESC] = true;
            } else {
                fprintf(stderr, "sekisho-scand: --mode is fmap or desc\n");
                return -1;
            }
            o->bench_modes[o->mode] = true;
        } else {
            fprintf(stderr, "sekisho-scand: unknown option %s\n", a);
            usage(stderr);
            return -1;
        }
        if (takes)
            i++;
    }
    if (!o->bench_modes[ENGINE_SCAN_FMAP] && !o->bench_modes[ENGINE_SCAN_DESC])
        o->bench_modes[o->mode] = true;
    if (o->nceiling_first > 0 && o->ceiling.dir != NULL) {
        fprintf(stderr, "sekisho-scand: --ceiling and --ceiling-first do not go together\n");
        return -1;
    }
    if (o->nceiling_first > 0) { /* the daemon's own scans are the other path */
        o->ceiling.path_bare = true;
        o->ceiling.path_engine = false;
    }
    if (!o->ceiling.path_bare && !o->ceiling.path_engine)
        o->ceiling.path_bare = o->ceiling.path_engine = true;
    /* The ceiling runs as many threads as the daemon would: CPUs, or
     * --threads; not GEN-5's minimum of 2 on a 1-CPU machine. */
    o->ceiling.threads = o->threads_given || cpus < 1 ? o->threads : (unsigned)cpus;
    if (o->ceiling.dir != NULL && !o->ceiling.stamp && o->ceiling.path_bare &&
        o->ceiling.path_engine) {
        fprintf(stderr, "sekisho-scand: --stamp none takes one --path\n");
        return -1;
    }
    return 0;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int bench_one(const struct options *o, struct engine *e, const char *path,
                     enum engine_scan_mode mode, bool cache)
{
    if (engine_set_clean_cache(e, cache) < 0) {
        fprintf(stderr, "sekisho-scand: cannot switch the clean cache\n");
        return 2;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "sekisho-scand: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 2;
    }
    unsigned iterations = o->iterations;
    if (iterations == 0) {
        double n = st.st_size > 0 ? SCAND_BENCH_AUTO_BYTES / (double)st.st_size : 1.0;
        iterations = n < SCAND_BENCH_AUTO_MIN   ? SCAND_BENCH_AUTO_MIN
                     : n > SCAND_BENCH_AUTO_MAX ? SCAND_BENCH_AUTO_MAX
                                                : (unsigned)n;
    }
    struct scanreq_request req;
    memset(&req, 0, sizeof(req));
    req.type = SCANREQ_T_SCAN;
    struct scanreq_reply rep;
    /* With the cache on, one untimed warm-up scan puts the file in it, so
     * every timed iteration is a hit. */
    if (cache)
        engine_scan(e, fd, &req, mode, NULL, &rep);
    double t0 = now_ms();
    for (unsigned i = 0; i < iterations; i++) {
        req.id = i;
        engine_scan(e, fd, &req, mode, NULL, &rep);
    }
    double ms = now_ms() - t0;
    double mb = (double)st.st_size * iterations / (1024.0 * 1024.0);
    printf("bench: file=%s bytes=%lld mode=%s cache=%s iterations=%u verdict=%s%s%s "
           "total_ms=%.1f ms_per_scan=%.3f MB/s=%.1f\n",
           path, (long long)st.st_size, engine_scan_mode_name(mode), cache ? "hit" : "off",
           iterations, scanreq_verdict_name(rep.verdict), rep.name[0] ? " name=" : "", rep.name, ms,
           ms / iterations, ms > 0 ? mb / (ms / 1e3) : 0.0);
    fflush(stdout);
    engine_thread_done();
    close(fd);
    return rep.verdict == SCANREQ_ERROR ? 2 : 0;
}

/* bench_engine - libclamav initialised and dir's definitions loaded for
 * --bench or --ceiling, with their "engine:" line printed (bench/ scripts
 * read it); NULL (logged) when either fails. */
static struct engine *bench_engine(const char *dir, bool clean_cache)
{
    char err[ENGINE_ERROR_MAX];
    long rss_before = rss_kb();
    struct engine *e = NULL;
    if (clam_init(err, sizeof(err)) < 0 ||
        (e = engine_load(dir, clean_cache, err, sizeof(err))) == NULL) {
        scand_log("###ERROR### vsd_start() error: %s", err);
        return NULL;
    }
    printf("engine: databases=%s signatures=%llu load_ms=%.0f rss_kb=%ld rss_before_kb=%ld\n", dir,
           (unsigned long long)engine_signatures(e), engine_load_ms(e), rss_kb(), rss_before);
    fflush(stdout);
    return e;
}

static int run_bench(const struct options *o, struct engine *e)
{
    int worst = 0;
    for (unsigned i = 0; i < o->nbench; i++)
        for (int m = ENGINE_SCAN_FMAP; m <= ENGINE_SCAN_DESC; m++) {
            if (!o->bench_modes[m])
                continue;
            for (int cache = 0; cache <= 1; cache++) {
                int rc = bench_one(o, e, o->bench_files[i], (enum engine_scan_mode)m, cache);
                if (rc > worst)
                    worst = rc;
            }
        }
    return worst;
}

/* drop_privileges - become --user (when root) as the master becomes
 * run_user (lib/privdrop), and never gain privileges again. */
static int drop_privileges(const char *user)
{
    if (user != NULL && geteuid() != 0)
        scand_log("--user %s ignored: not running as root", user);
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    char err[256];
    if (user != NULL && privdrop_resolve(user, &uid, &gid, err, sizeof(err)) < 0) {
        scand_log("--user: %s", err);
        return -1;
    }
    if (privdrop_to(uid, gid) < 0) {
        scand_log("dropping privileges to %s: %s", user ? user : "(none)", strerror(errno));
        return -1;
    }
    return 0;
}

/* The listening socket: bound by the supervisor, inherited by each
 * scanning process. A global so that it stays reachable (LeakSanitizer)
 * in the supervisor, which exits without returning from main. */
static struct scand_server *server;

static void supervisor_exit(void *arg)
{
    (void)arg;
    scand_server_free(server); /* closes and unlinks the socket */
    server = NULL;
}

/* on_usr2 - scand_usr2_fn: the --ceiling-first measurements again. */
static void on_usr2(void *arg, int value)
{
    (void)ceiling_rerun_start(arg, value); /* it logs what it does */
}

/* serve - the scanning process: load, serve until SIGTERM. */
static int serve(const struct options *o, const char *tmp)
{
    char err[ENGINE_ERROR_MAX];
    if (scand_supervise_restarted() && scand_tmpdir_empty(tmp) < 0)
        scand_log("cannot empty %s: %s", tmp, strerror(errno));
    if (clam_init(err, sizeof(err)) < 0) {
        scand_log("###ERROR### vsd_start() error: %s", err);
        return 1;
    }
    struct engine *e = engine_load(o->databases, true, err, sizeof(err));
    if (e == NULL) {
        /* LOG-E18: definitions not loadable. */
        scand_log("###ERROR### vsd_start() error: %s", err);
        return 1;
    }
    /* Before the start line, which is what scripts and tests wait for. */
    engine_log_definitions(e);
    struct engine_slot slot;
    engine_slot_init(&slot, e, o->databases, scand_server_reload_done, server);
    scand_server_set_slot(server, &slot);
    /* --ceiling-first: the bare loop on this very engine before serving
     * (a large engine's cost per scan differs from one process to the
     * next, docs/bench.md, issue 17; requests queue meanwhile), and again
     * on each SIGUSR2 while serving: the benches' yardstick in the same
     * process and minute as a cell. */
    struct ceiling_rerun *rerun = NULL;
    if (o->nceiling_first > 0) {
        struct ceiling_options co = o->ceiling;
        co.threads = o->threads; /* as many as serve */
        rerun = ceiling_rerun_new(&co, o->ceiling_first, o->nceiling_first, &slot);
        if (rerun != NULL) {
            ceiling_rerun_now(rerun);
            scand_server_set_usr2(server, on_usr2, rerun);
        } else {
            scand_log("--ceiling-first: out of memory, not measured (the daemon serves)");
        }
    }
    char mark[4200];
    if (engine_mark_path(o->socket_path, mark, sizeof(mark)) != 0 ||
        engine_slot_set_mark(&slot, mark) != 0)
        scand_log("cannot write %s" ENGINE_MARK_SUFFIX ": %s (proxies forget cached verdicts "
                  "only after 60 s)",
                  o->socket_path, strerror(errno));
    fprintf(stderr, "sekisho-scand: loaded %llu signatures from %s in %.0f ms, listening on %s\n",
            (unsigned long long)engine_signatures(e), o->databases, engine_load_ms(e),
            o->socket_path);
    scand_log("max file size %llu bytes (scand_max_filesize)",
              (unsigned long long)engine_max_filesize());
    scand_log("%u scanner threads, scan path %s, pid %ld", o->threads,
              engine_scan_mode_name(o->mode), (long)getpid());
    scand_supervise_ready();
    int rc = scand_server_run(server);
    ceiling_rerun_free(rerun); /* waits for a measurement, which holds an engine */
    /* The slot first: it waits for a reload thread still running, whose
     * completion callback writes to the server's eventfd. */
    engine_slot_fini(&slot);
    scand_server_free(server);
    server = NULL;
    scand_log("stopped");
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct options o;
    memtune_keep_freed_memory(); /* libclamav's per-scan buffers, in every thread */
    if (parse_options(argc, argv, &o) < 0)
        return 2;
    scand_log_set_verbose(o.verbose);
    /* Before any thread exists, so every thread inherits the mask. */
    if (scand_server_block_signals() < 0) {
        perror("sekisho-scand: sigmask");
        return 1;
    }
    char err[ENGINE_ERROR_MAX];
    engine_set_max_filesize(o.max_filesize); /* before any engine: bench, scan, reloads */
    if (o.ceiling.dir != NULL || o.nbench > 0) {
        /* The ceiling keeps the clean cache on, as the daemon has it: each
         * content is new, so it only costs its lookup and insert. The
         * one-file benchmark switches it per run (bench_one). */
        struct engine *e = bench_engine(o.databases, o.ceiling.dir != NULL);
        if (e == NULL)
            return 1;
        int rc = o.ceiling.dir != NULL ? scand_ceiling_run(&o.ceiling, e) : run_bench(&o, e);
        engine_unref(e);
        return rc;
    }
    /* Before loading: every engine (reloads too) writes its temporary
     * files inside tmpdir, never in /tmp (issue 10, item 13). */
    char tmp[4096];
    if (scand_tmpdir_prepare(o.tmpdir, o.user, tmp, sizeof(tmp), err, sizeof(err)) < 0 ||
        (engine_set_tmpdir(tmp) < 0 &&
         snprintf(err, sizeof(err), "tmpdir too long: %s", tmp) > 0)) {
        scand_log("###ERROR### vsd_start() error: %s", err);
        return 1;
    }
    scand_log("temporary files in %s", tmp);
    /* Bound by the supervisor (as root when started so), kept across
     * restarts of the scanning process. */
    struct scand_server_config cfg = {
        .socket_path = o.socket_path, .threads = o.threads, .mode = o.mode, .slot = NULL};
    server = scand_server_new(&cfg, err, sizeof(err));
    if (server == NULL) {
        scand_log("###ERROR### %s", err);
        return 1;
    }
    /* The supervisor drops privileges too: nothing it does needs root
     * after binding, and the scanning processes it forks inherit it. */
    if (drop_privileges(o.user) < 0) {
        supervisor_exit(NULL);
        return 1;
    }
    scand_supervise(o.daemon, supervisor_exit, NULL); /* returns in the scanning process */
    return serve(&o, tmp);
}

/* ceiling_rerun - see ceiling_rerun.h. */
#include "scand/ceiling_rerun.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/thread.h"
#include "scand/scand_log.h"

#define CEILING_RERUN_STACK (256u * 1024u) /* scand_ceiling_run's own threads scan */

struct ceiling_rerun {
    struct ceiling_options base;
    const char *const *dirs;
    unsigned ndirs;
    struct engine_slot *slot;
    pthread_t thread;
    bool joinable;       /* a thread was started and not yet joined */
    atomic_bool running; /* it has not finished yet */
    int which;           /* of the running measurement */
};

static void log_started(const char *dir)
{
    scand_log("SIGUSR2: measuring the ceiling of %s (served scans wait)", dir);
}

struct ceiling_rerun *ceiling_rerun_new(const struct ceiling_options *base, const char *const *dirs,
                                        unsigned ndirs, struct engine_slot *slot)
{
    struct ceiling_rerun *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->base = *base;
    r->base.path_bare = true;
    r->base.path_engine = false;
    r->dirs = dirs;
    r->ndirs = ndirs;
    r->slot = slot;
    atomic_init(&r->running, false);
    return r;
}

/* measure - directory number which (1-based; 0 or out of range: all)
 * with the engine in service; on_signal: while serving (logged, served
 * scans wait), or before serving. */
static void measure(struct ceiling_rerun *r, int which, bool on_signal)
{
    struct engine *e = engine_slot_acquire(r->slot);
    for (unsigned i = 0; i < r->ndirs; i++) {
        if (which >= 1 && (unsigned)which <= r->ndirs && (unsigned)which != i + 1)
            continue;
        struct ceiling_options o = r->base;
        o.dir = r->dirs[i];
        o.started = on_signal ? log_started : NULL;
        if (scand_ceiling_run(&o, e) != 0)
            scand_log("%s: ceiling of %s not measured (see stderr)",
                      on_signal ? "SIGUSR2" : "--ceiling-first", o.dir);
    }
    engine_slot_release(r->slot, e);
}

void ceiling_rerun_now(struct ceiling_rerun *r)
{
    measure(r, 0, false);
}

static void *rerun_main(void *arg)
{
    struct ceiling_rerun *r = arg;
    measure(r, r->which, true);
    atomic_store(&r->running, false);
    return NULL;
}

bool ceiling_rerun_start(struct ceiling_rerun *r, int which)
{
    if (atomic_load(&r->running)) {
        scand_log("SIGUSR2: a ceiling measurement is still running; not started again");
        return false;
    }
    if (r->joinable) {
        pthread_join(r->thread, NULL);
        r->joinable = false;
    }
    r->which = which;
    atomic_store(&r->running, true);
    int err = thread_start(&r->thread, CEILING_RERUN_STACK, rerun_main, r);
    if (err != 0) {
        atomic_store(&r->running, false);
        scand_log("SIGUSR2: cannot start the ceiling measurement: %s", strerror(err));
        return false;
    }
    r->joinable = true;
    return true;
}

void ceiling_rerun_free(struct ceiling_rerun *r)
{
    if (r == NULL)
        return;
    if (r->joinable)
        pthread_join(r->thread, NULL);
    free(r);
}

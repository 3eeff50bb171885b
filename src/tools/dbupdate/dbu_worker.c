/* dbu_worker - the update itself: stage, fetch or import, verify, switch,
 * reload (see dbupdate.h, dbu_stage.h). Runs in the process forked by
 * main.c, holding the update lock; reports through the status file and
 * log/dbupdate.log only. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clam/clam_db.h"
#include "core/scan_client.h"
#include "tools/dbupdate/dbu_bundle.h"
#include "tools/dbupdate/dbu_fetch.h"
#include "tools/dbupdate/dbu_log.h"
#include "tools/dbupdate/dbu_stage.h"
#include "core/dbu_status.h"
#include "tools/dbupdate/dbupdate.h"

/* A reload of the full ClamAV database takes about a minute on a small
 * machine; scand answers a RELOAD when its new engine serves. */
#define DBU_RELOAD_WAIT_S (15 * 60)

static struct dbu_status status;
static const char *status_path;

static void stage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(status.stage, sizeof(status.stage), fmt, ap);
    va_end(ap);
    status.changed = time(NULL);
    dbu_status_write(status_path, &status);
    dbu_log("%s", status.stage);
}

static int finish(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int finish(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(status.message, sizeof(status.message), fmt, ap);
    va_end(ap);
    status.result = code;
    status.changed = time(NULL);
    snprintf(status.stage, sizeof(status.stage), "finished");
    dbu_status_write(status_path, &status);
    dbu_log("%s: %s (exit code %d)", code == DBU_EXIT_FAILED ? "update failed" : "update finished",
            status.message, code);
    return code;
}

enum reload_outcome { RELOAD_OK, RELOAD_NOT_RUNNING, RELOAD_FAILED };

/* reload_scand - ask sekisho-scand to load databases/ anew and wait until
 * its new engine serves (or it says why not). */
static enum reload_outcome reload_scand(const struct dbu_ctx *ctx, unsigned long long *sigs,
                                        char *err, size_t errcap)
{
    int sock = scan_client_connect(ctx->scand_socket, false);
    if (sock < 0) {
        if (errno == ENOENT || errno == ECONNREFUSED)
            return RELOAD_NOT_RUNNING;
        snprintf(err, errcap, "%s: %s", ctx->scand_socket, strerror(errno));
        return RELOAD_FAILED;
    }
    struct timeval tv = {.tv_sec = DBU_RELOAD_WAIT_S};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct scanreq_request req = {.type = SCANREQ_T_RELOAD, .id = (uint64_t)getpid()};
    struct scanreq_reply rep;
    int rc = scan_client_call(sock, &req, -1, &rep);
    int e = errno;
    close(sock);
    if (rc != 0) {
        snprintf(err, errcap, "no answer from %s: %s", ctx->scand_socket, strerror(e));
        return RELOAD_FAILED;
    }
    if (!rep.reload_ok) {
        snprintf(err, errcap, "%s", rep.error);
        return RELOAD_FAILED;
    }
    *sigs = (unsigned long long)rep.signatures;
    return RELOAD_OK;
}

int dbu_worker_run(struct dbu_ctx *ctx)
{
    status_path = ctx->status_path;
    memset(&status, 0, sizeof(status));
    status.pid = (long)getpid();
    status.started = time(NULL);
    status.result = -1;
    if (ctx->source == DBU_SOURCE_BUNDLE)
        stage("update started: importing the bundle %s", ctx->bundle);
    else
        stage("update started");

    char err[3 * DBU_PATH_MAX] = "";
    if (dbu_stage_create(ctx, err, sizeof(err)) != 0) {
        dbu_stage_discard(ctx);
        return finish(DBU_EXIT_FAILED, "%s", err);
    }
    char changed[2048];
    int rc = ctx->source == DBU_SOURCE_BUNDLE
                 ? dbu_bundle_import(ctx, changed, sizeof(changed), err, sizeof(err))
                 : dbu_fetch(ctx, stage, changed, sizeof(changed), err, sizeof(err));
    if (rc != 0) {
        dbu_stage_discard(ctx);
        return finish(DBU_EXIT_FAILED, "%s; the definitions in service are unchanged", err);
    }
    if (changed[0] == '\0') {
        dbu_stage_discard(ctx);
        return finish(DBU_EXIT_NOTHING_NEW,
                      "no new updates: the definitions in service are current");
    }

    stage("verifying the new definitions (%s) by loading them", changed);
    uint64_t sigs = 0;
    if (clam_db_verify(ctx->staging, &sigs, err, sizeof(err)) != 0) {
        dbu_stage_discard(ctx);
        return finish(
            DBU_EXIT_FAILED,
            "the new definitions do not load: %s; the definitions in service are unchanged", err);
    }

    /* From the switch to scand's answer the update is not interrupted: a
     * signal now would leave new files in place that scand was not told
     * about. It takes effect when the update has finished. */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    stage("installing the new definitions (%llu signatures)", (unsigned long long)sigs);
    if (dbu_stage_switch(ctx, err, sizeof(err)) != 0) {
        dbu_stage_discard(ctx);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return finish(DBU_EXIT_FAILED, "%s; the definitions in service are unchanged", err);
    }
    if (err[0])
        dbu_log("%s", err);
    dbu_tree_remove(ctx->tmp);

    stage("asking sekisho-scand to load the new definitions");
    unsigned long long served = 0;
    int code;
    switch (reload_scand(ctx, &served, err, sizeof(err))) {
    case RELOAD_OK:
        code = finish(DBU_EXIT_UPDATED,
                      "definitions updated: %s; sekisho-scand serves them (%llu signatures)",
                      changed, served);
        break;
    case RELOAD_NOT_RUNNING:
        code = finish(DBU_EXIT_UPDATED,
                      "definitions updated: %s (%llu signatures); sekisho-scand is not running and "
                      "loads them when it starts",
                      changed, (unsigned long long)sigs);
        break;
    default: {
        char back[1024] = "";
        if (dbu_stage_switch_back(ctx, back, sizeof(back)) != 0)
            code = finish(DBU_EXIT_FAILED,
                          "sekisho-scand could not load the new definitions: %s; %s", err, back);
        else
            code = finish(DBU_EXIT_FAILED,
                          "sekisho-scand could not load the new definitions: %s; the previous "
                          "definitions were put back and it goes on scanning with them",
                          err);
    }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return code;
}

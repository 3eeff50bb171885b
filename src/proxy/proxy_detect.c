/* proxy_detect - see proxy_detect.h. */
#include "proxy/proxy_detect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/notify.h"
#include "core/quarantine_store.h"
#include "core/template.h"
#include "lib/buf.h"
#include "lib/spoolfile.h"
#include "proto/mbox_format.h"
#include "proto/quarantine_meta.h"
#include "proxy/proxy_bgcopy.h"
#define NOTIFY_MAX 65536 /* a rendered notification, at most */

enum accesslog_action proxy_detect_action(enum config_action a)
{
    switch (a) {
    case CONFIG_ACTION_PASS:
        return ACCESSLOG_ACTION_PASS;
    case CONFIG_ACTION_BLACKHOLE:
        return ACCESSLOG_ACTION_BLACKHOLE;
    case CONFIG_ACTION_SENDBACK:
        return ACCESSLOG_ACTION_SENDBACK;
    case CONFIG_ACTION_DELETE:
        return ACCESSLOG_ACTION_DELETE;
    default:
        return ACCESSLOG_ACTION_DENY;
    }
}

/* quarantine_name - "<service>-<time>.<pid>.<n>": unique per worker. */
static void quarantine_name(const struct proxy_session *s, char *name, size_t cap)
{
    static unsigned seq;
    snprintf(name, cap, "%s-%lld.%d.%u", s->ops->name, (long long)time(NULL), (int)getpid(), ++seq);
}

/* reserve - quarantine_dir/name created empty, 0600, O_EXCL and
 * O_NOFOLLOW: the name the record gives is this new file's, never
 * another's nor a link planted in its place. A quick metadata operation,
 * made on the loop before any copy starts. The descriptor, or -1. */
static int reserve(const struct proxy_session *s, const char *name, char *path, size_t cap)
{
    if ((size_t)snprintf(path, cap, "%s/%s", s->cfg->quarantine_dir, name) >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* format_meta - the meta of the object s quarantines now (o's verdict,
 * who), into a static buffer (a worker is one thread); NULL when it does
 * not fit (logged: the object is then kept without one). */
static const char *format_meta(const struct proxy_session *s, const struct proxy_outcome *o,
                               const struct proxy_quarantine_who *who, uint64_t size, size_t *len)
{
    static struct qmeta m;
    static char mem[QMETA_TEXT_MAX];
    m = (struct qmeta){
        .version = QMETA_VERSION,
        .time = (int64_t)time(NULL),
        .service = str_from_cstr(s->ops->name),
        .result = o->result == ACCESSLOG_RESULT_SPAM ? QMETA_SPAM : QMETA_INFECTED,
        .detection = str_from_cstr(o->detect_name),
        .client = str_from_cstr(s->client.ip),
        .user = str_from_cstr(who->user),
        .has_sender = who->sender != NULL,
        .sender = str_from_cstr(who->sender),
        .rcpt_count = who->nrcpt,
        .url = str_from_cstr(who->url),
        .file = str_from_cstr(o->detect_file),
        .size = size,
    };
    size_t n = 0;
    qmeta_rcpts_split(str_from_cstr(who->rcpts), m.rcpt, QMETA_RCPT_MAX, &n);
    m.nrcpt = n < QMETA_RCPT_MAX ? n : QMETA_RCPT_MAX;
    if (n > m.rcpt_count)
        m.rcpt_count = n;
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    if (!qmeta_format(&m, &out)) {
        svclog_error(&s->log, "quarantine: the meta of [%s] does not fit in %u bytes: none written",
                     o->quarantine, (unsigned)sizeof(mem));
        return NULL;
    }
    *len = buf_len(&out);
    return buf_rptr(&out);
}

/* write_meta - the meta of a complete copy at path, at once (a small
 * file: one write and a rename, like the reserve above). */
static void write_meta(const struct proxy_session *s, const char *path, const char *meta,
                       size_t len)
{
    if (meta && qstore_meta_write(path, meta, len, false) < 0)
        svclog_error_errno(&s->log, errno, "quarantine: cannot write [%s%s]", path, QMETA_SUFFIX);
}

/* copy_now - a small object copied at once on the loop (bounded by
 * PROXY_QUARANTINE_NOW_MAX). */
static bool copy_now(const struct proxy_session *s, const struct proxy_bgcopy_req *req)
{
    int rc = proxy_bgcopy_run(req, NULL);
    int err = rc < 0 ? errno : 0;
    if (close(req->dst) < 0 && rc == 0)
        err = errno;
    if (!err)
        return true;
    svclog_error_errno(&s->log, err, "quarantine: cannot write [%s]", req->path);
    unlink(req->path);
    return false;
}

/* copy_later - a large object handed to the worker's copier with a
 * duplicate of the spool's descriptor (the session may close its own). */
static bool copy_later(const struct proxy_session *s, struct proxy_bgcopy_req *req, int fd)
{
    struct proxy_worker *w = s->w;
    if (!w->bgcopy)
        w->bgcopy = proxy_bgcopy_new(w->loop);
    req->src = w->bgcopy ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (req->src >= 0 && proxy_bgcopy_submit(w->bgcopy, req, &s->log) == 0)
        return true;
    int err = errno;
    if (req->src >= 0)
        close(req->src);
    close(req->dst);
    unlink(req->path);
    if (err == EAGAIN)
        svclog_error(&s->log,
                     "quarantine: %u copies in progress on this worker already: [%s] not "
                     "written",
                     (unsigned)PROXY_BGCOPY_JOBS, req->path);
    else
        svclog_error_errno(&s->log, err, "quarantine: cannot queue the copy to [%s]", req->path);
    return false;
}

/* copy - req's object (spool fd) into req->dst, at once or later by its
 * size, then its meta; its name goes to o->quarantine unless that fails
 * at once. */
static bool copy(const struct proxy_session *s, struct proxy_outcome *o,
                 struct proxy_bgcopy_req *req, int fd, const char *name,
                 const struct proxy_quarantine_who *who)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        svclog_error_errno(&s->log, errno, "quarantine: cannot read the spool for [%s]", req->path);
        close(req->dst);
        unlink(req->path);
        return false;
    }
    req->src = fd;
    req->len = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    str_copy(o->quarantine, sizeof(o->quarantine), name);
    req->meta = format_meta(s, o, who, req->len, &req->meta_len);
    bool now = req->len <= PROXY_QUARANTINE_NOW_MAX;
    if (!(now ? copy_now(s, req) : copy_later(s, req, fd))) {
        o->quarantine[0] = '\0';
        return false;
    }
    if (now)
        write_meta(s, req->path, req->meta, req->meta_len);
    return true;
}

bool proxy_quarantine_mbox(const struct proxy_session *s, struct proxy_outcome *o, int fd,
                           const char *envelope_from, const struct proxy_quarantine_who *who)
{
    char name[PROXY_QUARANTINE_NAME_MAX], path[PROXY_BGCOPY_PATH_MAX];
    quarantine_name(s, name, sizeof(name));
    int out_fd = reserve(s, name, path, sizeof(path));
    if (out_fd < 0) {
        svclog_error_errno(&s->log, errno, "quarantine: cannot create [%s]", path);
        return false;
    }
    char sep_mem[PROXY_BGCOPY_SEP_MAX];
    struct buf sep;
    buf_init(&sep, sep_mem, sizeof(sep_mem));
    if (!mbox_separator(&sep, envelope_from, (int64_t)time(NULL)) || !buf_cstr(&sep)) {
        svclog_error(&s->log, "quarantine: cannot write [%s]: no separator line", path);
        close(out_fd);
        unlink(path);
        return false;
    }
    struct proxy_bgcopy_req req = {
        .mode = PROXY_BGCOPY_MBOX, .dst = out_fd, .path = path, .sep = buf_cstr(&sep)};
    return copy(s, o, &req, fd, name, who);
}

bool proxy_quarantine_file(const struct proxy_session *s, struct proxy_outcome *o, int fd,
                           const struct proxy_quarantine_who *who)
{
    char name[PROXY_QUARANTINE_NAME_MAX], path[PROXY_BGCOPY_PATH_MAX];
    quarantine_name(s, name, sizeof(name));
    /* The same file system: the spool gets a name, no byte is moved. */
    if (spoolfile_link(fd, s->cfg->quarantine_dir, name) == 0) {
        str_copy(o->quarantine, sizeof(o->quarantine), name);
        struct stat st;
        size_t len = 0;
        const char *meta =
            format_meta(s, o, who, fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0, &len);
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", s->cfg->quarantine_dir, name) <
            sizeof(path))
            write_meta(s, path, meta, len);
        return true;
    }
    int out_fd = reserve(s, name, path, sizeof(path));
    if (out_fd < 0) {
        svclog_error_errno(&s->log, errno, "quarantine: cannot store [%s/%s] URL=[%s]",
                           s->cfg->quarantine_dir, name, who->url);
        return false;
    }
    struct proxy_bgcopy_req req = {.mode = PROXY_BGCOPY_RAW, .dst = out_fd, .path = path};
    return copy(s, o, &req, fd, name, who);
}

static void notify_done(void *arg)
{
    (void)arg;
}

void proxy_notify_admin(const struct proxy_session *s, const struct template_vars *v)
{
    static struct template_var_table table; /* a worker is one thread */
    static char mem[NOTIFY_MAX];
    template_vars_table(v, &table);
    struct buf body;
    buf_init(&body, mem, sizeof(mem));
    struct proxy_worker *w = s->w;
    if (template_render(w->res->tpl_admin, table.vars, TEMPLATE_VAR_COUNT, &body) ==
        TEMPLATE_PARSE_DONE)
        notify_admin_send(w->loop, w->dns, s->cfg, w->res->hostname, buf_view(&body), &s->log,
                          notify_done, NULL);
    else
        svclog_error(&s->log,
                     "notify_admin: template_admin.txt does not fit in %u bytes once "
                     "rendered: no notification",
                     (unsigned)sizeof(mem));
}

struct str proxy_mail_header(int fd, size_t header_len)
{
    static char headers[PROXY_DETECT_HEADER_MAX];
    size_t hl = header_len < sizeof(headers) ? header_len : sizeof(headers);
    ssize_t n = hl && fd >= 0 ? pread(fd, headers, hl, 0) : 0;
    size_t keep = 0, lines = 0;
    for (size_t i = 1; n > 0 && i < (size_t)n && lines < PROXY_DETECT_HEADER_LINES; i++) {
        if (headers[i] == '\n' && headers[i - 1] == '\r') {
            keep = i + 1;
            lines++;
        }
    }
    return str_make(headers, keep);
}

void proxy_detect_object(const struct proxy_session *s, struct proxy_outcome *o, const char *name,
                         const char *file, int fd, const char *url, const char *user,
                         proxy_detect_vars_fn *vars, void *arg)
{
    const struct config *cfg = s->cfg;
    proxy_outcome_detected(o, name, file, proxy_detect_action(cfg->action));
    struct proxy_quarantine_who who = {.url = url, .user = user};
    if (cfg->quarantine && fd >= 0)
        proxy_quarantine_file(s, o, fd, &who);
    svclog_info(&s->log, "Infected: URL=[%s] VirusName: %s action=%s", url, name,
                accesslog_action_name(o->action));
    if (cfg->notify_admin && cfg->admin_mailaddr.count > 0) {
        struct template_vars v;
        vars(arg, &v, url);
        proxy_notify_admin(s, &v);
    }
}

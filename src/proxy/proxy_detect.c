/* proxy_detect - see proxy_detect.h. */
#include "proxy/proxy_detect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/notify.h"
#include "core/template.h"
#include "lib/buf.h"
#include "lib/spoolfile.h"
#include "proto/mbox_format.h"

#define MBOX_CHUNK 16384
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

bool proxy_quarantine_mbox(const struct proxy_session *s, struct proxy_outcome *o, int fd,
                           const char *envelope_from)
{
    char name[PROXY_QUARANTINE_NAME_MAX], path[4096];
    quarantine_name(s, name, sizeof(name));
    snprintf(path, sizeof(path), "%s/%s", s->cfg->quarantine_dir, name);
    int out_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out_fd < 0) {
        svclog_error_errno(&s->log, errno, "quarantine: cannot create [%s]", path);
        return false;
    }
    static char in[MBOX_CHUNK], mem[2 * MBOX_CHUNK + 512];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    struct mbox_writer mw;
    mbox_writer_init(&mw);
    bool ok = mbox_separator(&out, envelope_from, (int64_t)time(NULL));
    for (off_t off = 0; ok;) {
        ssize_t n = pread(fd, in, sizeof(in), off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ok = n == 0 && mbox_finish(&mw, &out);
            n = 0;
        } else {
            ok = mbox_write(&mw, in, (size_t)n, &out);
            off += n;
        }
        ok = ok && spoolfile_write_all(out_fd, buf_rptr(&out), buf_len(&out)) == 0;
        buf_reset(&out);
        if (n == 0)
            break;
    }
    if (close(out_fd) < 0)
        ok = false;
    if (!ok) {
        svclog_error_errno(&s->log, errno, "quarantine: cannot write [%s]", path);
        unlink(path);
        return false;
    }
    str_copy(o->quarantine, sizeof(o->quarantine), name);
    return true;
}

bool proxy_quarantine_file(const struct proxy_session *s, struct proxy_outcome *o, int fd,
                           const char *what)
{
    char name[PROXY_QUARANTINE_NAME_MAX];
    quarantine_name(s, name, sizeof(name));
    if (spoolfile_keep(fd, s->cfg->quarantine_dir, name) < 0) {
        svclog_error_errno(&s->log, errno, "quarantine: cannot store [%s/%s] URL=[%s]",
                           s->cfg->quarantine_dir, name, what);
        return false;
    }
    str_copy(o->quarantine, sizeof(o->quarantine), name);
    return true;
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

/* proxy_record - see proxy_record.h. */
#include "proxy/proxy_record.h"

#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/str.h"
#include "lib/svc_stats.h"

void proxy_outcome_begin(struct proxy_outcome *o, const struct proxy_session *s)
{
    *o = (struct proxy_outcome){.result = ACCESSLOG_RESULT_CLEAN,
                                .action = ACCESSLOG_ACTION_NONE,
                                .start_ms = ev_now_ms(s->w->loop)};
    clock_gettime(CLOCK_REALTIME, &o->start_rt);
}

void proxy_outcome_detected(struct proxy_outcome *o, const char *name, const char *file,
                            enum accesslog_action action)
{
    o->result = ACCESSLOG_RESULT_INFECTED;
    str_copy(o->detect_name, sizeof(o->detect_name), name);
    str_copy(o->detect_file, sizeof(o->detect_file), file ? file : "");
    o->action = action;
}

void proxy_outcome_spam(struct proxy_outcome *o, const char *name, enum accesslog_action action)
{
    o->result = ACCESSLOG_RESULT_SPAM;
    str_copy(o->detect_name, sizeof(o->detect_name), name);
    o->detect_file[0] = '\0';
    o->action = action;
}

void proxy_record_write(const struct proxy_session *s, const struct proxy_outcome *o,
                        struct access_record *r)
{
    r->time_sec = o->start_rt.tv_sec;
    r->time_msec = (unsigned)(o->start_rt.tv_nsec / 1000000);
    r->elapsed_ms = (long)(ev_now_ms(s->w->loop) - o->start_ms);
    r->client = str_from_cstr(s->client.host);
    r->server_ip = str_from_cstr(s->server.ip);
    r->content_type = str_from_cstr(o->content_type);
    r->result = o->result;
    r->detect_name = str_from_cstr(o->detect_name);
    r->detect_file = str_from_cstr(o->detect_file);
    r->quarantine_file = str_from_cstr(o->quarantine);
    r->action = o->action;
    r->service = str_from_cstr(s->ops->name);
    r->internal_id = (unsigned)s->slot;
    r->pid = (long)s->w->pid;
    r->host_ip = str_from_cstr(s->client.ip);
    r->checks = o->checks;
    r->scan_ms = o->scan_ms;
    r->details = o->details;
    if (!r->proxy_error.ptr)
        r->proxy_error = str_from_cstr(o->error);
    svc_stats_request(s->w->stats, o->result == ACCESSLOG_RESULT_INFECTED,
                      o->result == ACCESSLOG_RESULT_SPAM, time(NULL));
    char line[ACCESSLOG_LINE_MAX];
    struct buf b;
    buf_init(&b, line, sizeof(line));
    if (!accesslog_format_line(&b, r))
        return;
    log_sink_write(LOG_SINK_ACCESS, buf_rptr(&b), buf_len(&b));
    if (o->result != ACCESSLOG_RESULT_CLEAN)
        log_sink_write(LOG_SINK_DETECT, buf_rptr(&b), buf_len(&b));
}

void proxy_outcome_vars(const struct proxy_session *s, const struct proxy_outcome *o,
                        struct template_vars *v)
{
    v->service_type = str_from_cstr(s->ops->name);
    v->detection_name = str_from_cstr(o->detect_name);
    v->client_host = str_from_cstr(s->client.host);
    v->client_addr = str_from_cstr(s->client.ip);
    v->server_host = str_from_cstr(s->server.host);
    v->server_addr = str_from_cstr(s->server.ip);
    v->content_type = str_from_cstr(o->content_type);
    v->filename = str_from_cstr(o->detect_file);
    v->quarantine_file = str_from_cstr(o->quarantine);
    v->time = time(NULL);
    v->error_str = str_from_cstr(o->error);
    v->action = str_from_cstr(accesslog_action_name(o->action));
}

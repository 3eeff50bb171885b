/* template_vars - the values of every template variable (spec TPL-3). */
#include "core/template_vars.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* RFC 3986 2.3 unreserved characters: the only bytes a URL query term
 * may carry unencoded whatever the server does with reserved ones. */
static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

size_t template_vars_info_url(struct str name, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (name.len == 0)
        return 0;
    size_t o = str_copy(out, cap, TEMPLATE_VARS_INFO_URL_BASE);
    if (o + 1 >= cap)
        goto too_long;
    for (size_t i = 0; i < name.len; i++) {
        unsigned char c = (unsigned char)name.ptr[i];
        size_t need = is_unreserved(c) ? 1 : 3;
        if (o + need >= cap)
            goto too_long;
        if (need == 1) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;

too_long:
    out[0] = '\0';
    return 0;
}

void template_vars_time_str(time_t t, char *out, size_t cap)
{
    struct tm tm;
    if (!localtime_r(&t, &tm) || strftime(out, cap, "%a %b %e %H:%M:%S %Y", &tm) == 0) {
        if (cap)
            out[0] = '\0';
    }
}

/* value - a view for the array: never NULL, so the variable is set. */
static struct str value(struct str s)
{
    return s.ptr ? s : STR_LIT("");
}

void template_vars_table(const struct template_vars *v, struct template_var_table *t)
{
    snprintf(t->status, sizeof(t->status), "%03u", v->status);
    snprintf(t->content_length, sizeof(t->content_length), "%" PRIu64, v->content_length);
    snprintf(t->time, sizeof(t->time), "%lld", (long long)v->time);
    template_vars_time_str(v->time, t->time_str, sizeof(t->time_str));
    template_vars_info_url(value(v->detection_name), t->info_url, sizeof(t->info_url));

    const struct str values[TEMPLATE_VAR_COUNT] = {
        [TEMPLATE_VAR_SERVICE_TYPE] = v->service_type,
        [TEMPLATE_VAR_DETECTION_NAME] = v->detection_name,
        [TEMPLATE_VAR_VIRUS_INFO_URL] = str_from_cstr(t->info_url),
        [TEMPLATE_VAR_CLIENT_HOST] = v->client_host,
        [TEMPLATE_VAR_CLIENT_ADDR] = v->client_addr,
        [TEMPLATE_VAR_SERVER_HOST] = v->server_host,
        [TEMPLATE_VAR_SERVER_ADDR] = v->server_addr,
        [TEMPLATE_VAR_STATUS] = str_from_cstr(t->status),
        [TEMPLATE_VAR_METHOD] = v->method,
        [TEMPLATE_VAR_URL] = v->url,
        [TEMPLATE_VAR_CONTENT_TYPE] = v->content_type,
        [TEMPLATE_VAR_CONTENT_LENGTH] = str_from_cstr(t->content_length),
        [TEMPLATE_VAR_FILENAME] = v->filename,
        [TEMPLATE_VAR_QUARANTINE_FILE] = v->quarantine_file,
        [TEMPLATE_VAR_TIME] = str_from_cstr(t->time),
        [TEMPLATE_VAR_TIME_STR] = str_from_cstr(t->time_str),
        [TEMPLATE_VAR_HEADER] = v->header,
        [TEMPLATE_VAR_TEXT] = v->text,
        [TEMPLATE_VAR_MAILFROM] = v->mail_from,
        [TEMPLATE_VAR_RCPTTO] = v->rcpt_to,
        [TEMPLATE_VAR_MESSAGE_ID] = v->message_id,
        [TEMPLATE_VAR_ERROR_STR] = v->error_str,
        [TEMPLATE_VAR_ACTION] = v->action,
        [TEMPLATE_VAR_PATH_QUERY] = v->path_query,
        [TEMPLATE_VAR_X_FORWARDED_FOR] = v->x_forwarded_for,
    };
    template_parse_vars_init(t->vars);
    for (size_t i = 0; i < TEMPLATE_VAR_COUNT; i++)
        t->vars[i].value = value(values[i]);
}

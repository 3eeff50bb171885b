/* template_vars - the values of every template variable (spec TPL-3).
 *
 * Every page and mail the gateway renders from a template (the HTTP
 * detection, error and progress pages, the admin notification, the SMTP
 * sendback / delete notifications) offers the same 25 variables of guide
 * chapter 7.3. A session fills one struct template_vars with what it
 * knows; template_vars_table() turns it into the variable array that
 * template_render() takes, formatting the numbers and times and building
 * ${VIRUS_INFO_URL}. Every entry of the array is set: a value the session
 * does not have (#{MAILFROM} on an HTTP page, #{PATH_QUERY} in a mail)
 * renders empty, so no page or mail ever carries a literal `${...}` or
 * `#{...}` of chapter 7.3 (the renderer leaves unset names untouched,
 * G-30, which is right for names a template invents but never for these).
 *
 * What each variable holds in each service is listed in
 * docs/internals/templates.md. The module keeps no state and allocates
 * nothing: the table owns the formatted strings, and its other views point
 * at the caller's strings, which must outlive the rendering.
 */
#ifndef SEKISHO_CORE_TEMPLATE_VARS_H
#define SEKISHO_CORE_TEMPLATE_VARS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/str.h"
#include "proto/template_parse.h"

/* ${VIRUS_INFO_URL}: this prefix and the detection name percent-encoded
 * (RFC 3986: every byte but A-Z a-z 0-9 - . _ ~ as %XX), so the name
 * arrives whole in one query term whatever it holds. */
#define TEMPLATE_VARS_INFO_URL_BASE "https://www.virustotal.com/gui/search/"
/* Longest detection name the URL is built from: the scand protocol's
 * (SCANREQ_NAME_MAX); a longer one is refused, never cut. */
#define TEMPLATE_VARS_NAME_MAX 255
#define TEMPLATE_VARS_INFO_URL_MAX                                                                 \
    (sizeof(TEMPLATE_VARS_INFO_URL_BASE) + 3 * TEMPLATE_VARS_NAME_MAX)

/* What a session knows when it renders a template. A NULL view (the
 * zero value) renders empty. */
struct template_vars {
    struct str service_type;    /* "http", "smtp", "pop", "ftp" */
    struct str detection_name;  /* also the source of ${VIRUS_INFO_URL} */
    struct str client_host;     /* reverselookup result, else the address */
    struct str client_addr;     /* client IP */
    struct str server_host;     /* the server the gateway contacted */
    struct str server_addr;     /* its IP */
    unsigned status;            /* access-log status code, printed as %03u */
    struct str method;          /* HTTP method; "GET" for mail services */
    struct str url;             /* as in the access log */
    struct str content_type;    /* e.g. text/html */
    uint64_t content_length;    /* transferred bytes */
    struct str filename;        /* the detected file */
    struct str quarantine_file; /* the quarantine file name (G-27) */
    time_t time;                /* access time */
    struct str header;          /* #{HEADER}: the original mail's header block */
    struct str text;            /* #{TEXT} */
    struct str mail_from;       /* #{MAILFROM} */
    struct str rcpt_to;         /* #{RCPTTO}, comma-joined */
    struct str message_id;      /* #{MESSAGE_ID} */
    struct str error_str;       /* #{ERROR_STR}, as PROXY-ERROR */
    struct str action;          /* #{ACTION}, as the access log's ACTION */
    struct str path_query;      /* #{PATH_QUERY} (HTTP) */
    struct str x_forwarded_for; /* #{X_FORWARDED_FOR} (HTTP) */
};

/* The variable array and the storage of the values formatted for it. */
struct template_var_table {
    struct template_parse_var vars[TEMPLATE_VAR_COUNT]; /* index: enum template_parse_var_id */
    char status[16];
    char content_length[24];
    char time[24];
    char time_str[64];
    char info_url[TEMPLATE_VARS_INFO_URL_MAX];
};

/* template_vars_table - fill t->vars with every variable of TPL-3, each
 * set (empty when v has nothing for it). Pass t->vars and
 * TEMPLATE_VAR_COUNT to template_render. t must not move while its vars
 * are used (they point into it). */
void template_vars_table(const struct template_vars *v, struct template_var_table *t);

/* template_vars_info_url - TEMPLATE_VARS_INFO_URL_BASE followed by name
 * percent-encoded, NUL-terminated, into out (cap bytes). An empty name
 * gives "" (no detection, no URL). Returns the length, or 0 with out ""
 * when the URL does not fit (a name longer than TEMPLATE_VARS_NAME_MAX
 * with cap = TEMPLATE_VARS_INFO_URL_MAX): never a truncated URL. */
size_t template_vars_info_url(struct str name, char *out, size_t cap);

/* template_vars_time_str - t as ctime(3) text without the newline
 * ("Tue May  7 16:16:17 2002"), local time, into out (cap >= 26). */
void template_vars_time_str(time_t t, char *out, size_t cap);

#endif

/* admin_validate - see admin_validate.h. */
#include "admin/admin_validate.h"

#include <stdio.h>
#include <string.h>

#include "core/access.h"
#include "core/config.h"
#include "proto/htdigest.h"
#include "proto/spam_rule_parse.h"
#include "proto/template_parse.h"
#include "proto/userdb_parse.h"

static bool validate_ini(const char *ini_path, const char *text, size_t len, FILE *diag)
{
    /* One load reports every error of every section (config_load_text). */
    struct config *cfg = config_load_text(text, len, ini_path, SVC_COMMON, diag);
    if (cfg == NULL)
        return false;
    config_free(cfg);
    return true;
}

static bool validate_hosts(const char *text, size_t len, FILE *diag)
{
    struct access_table *t = access_table_from_text(text, len, "hosts.allow", diag);
    if (t == NULL)
        return false;
    access_table_free(t);
    return true;
}

static bool validate_spam(const char *text, size_t len, FILE *diag)
{
    struct spam_rule_parser p;
    struct spam_rule rule;
    struct spam_rule_error err;
    spam_rule_parser_init(&p, text, len);
    for (unsigned i = 0; i <= SPAM_RULES_MAX + 1; i++) {
        enum spam_rule_result r = spam_rule_next(&p, &rule, &err);
        if (r == SPAM_RULE_END)
            return true;
        if (r == SPAM_RULE_ERROR) {
            fprintf(diag, "spam/custom.txt:%u: %s\n", err.line, err.reason);
            return false;
        }
    }
    fprintf(diag, "spam/custom.txt: too many rules\n");
    return false;
}

static bool validate_userdb(const char *text, size_t len, FILE *diag)
{
    struct userdb_parser p;
    struct userdb_record rec;
    struct userdb_error err;
    userdb_parser_init(&p, text, len);
    for (size_t i = 0; i <= USERDB_RECORDS_MAX + 1; i++) {
        enum userdb_result r = userdb_next(&p, &rec, &err);
        if (r == USERDB_END)
            return true;
        if (r == USERDB_ERROR) {
            fprintf(diag, "pam/userdb.txt:%u: %s\n", err.line, err.reason);
            return false;
        }
    }
    fprintf(diag, "pam/userdb.txt: too many records\n");
    return false;
}

static bool validate_htdigest(const char *text, size_t len, FILE *diag)
{
    /* The console writes the file only through htdigest_set; what it sends
     * must hold the realm's admin line, or nobody could log in again. */
    unsigned char ha1[16];
    if (memchr(text, 0, len) != NULL) {
        fprintf(diag, "sekisho.htdigest: a NUL byte\n");
        return false;
    }
    if (!htdigest_find(text, len, "admin", "fsigk", ha1)) {
        fprintf(diag, "sekisho.htdigest: no line for user admin in realm fsigk\n");
        return false;
    }
    return true;
}

static bool validate_template(enum admin_ctl_file file, const char *text, size_t len, FILE *diag)
{
    struct template_parse_pos pos;
    memset(&pos, 0, sizeof(pos));
    enum template_parse_check c =
        template_parse_validate(str_make(text, len), TEMPLATE_PARSE_MAX_BYTES, &pos);
    if (c == TEMPLATE_CHECK_OK)
        return true;
    fprintf(diag, "%s:%zu: %s at byte %zu (column %zu)\n", admin_ctl_file_path(file), pos.line,
            template_parse_check_name(c), pos.offset, pos.column);
    return false;
}

bool admin_validate_file(enum admin_ctl_file file, const char *ini_path, const char *text,
                         size_t len, char *err, size_t errcap)
{
    if (errcap == 0)
        return false;
    err[0] = 0;
    FILE *diag = fmemopen(err, errcap, "w");
    if (diag == NULL) {
        str_format(err, errcap, "fmemopen failed");
        return false;
    }
    setvbuf(diag, NULL, _IONBF, 0);
    bool ok;
    if (len > ADMIN_FILE_MAX) {
        fprintf(diag, "%s: larger than %u bytes\n", admin_ctl_file_path(file), ADMIN_FILE_MAX);
        ok = false;
    } else {
        switch (file) {
        case ADMIN_FILE_INI:
            ok = validate_ini(ini_path, text, len, diag);
            break;
        case ADMIN_FILE_HOSTS_ALLOW:
            ok = validate_hosts(text, len, diag);
            break;
        case ADMIN_FILE_SPAM_CUSTOM:
            ok = validate_spam(text, len, diag);
            break;
        case ADMIN_FILE_USERDB:
            ok = validate_userdb(text, len, diag);
            break;
        case ADMIN_FILE_HTDIGEST:
            ok = validate_htdigest(text, len, diag);
            break;
        case ADMIN_FILE_TPL_HTTP:
        case ADMIN_FILE_TPL_HTTP_ERROR:
        case ADMIN_FILE_TPL_HTTP_PROGRESS:
        case ADMIN_FILE_TPL_SMTP:
        case ADMIN_FILE_TPL_SMTP_LAN:
        case ADMIN_FILE_TPL_POP:
        case ADMIN_FILE_TPL_ADMIN:
            ok = validate_template(file, text, len, diag);
            break;
        default:
            fprintf(diag, "unknown file\n");
            ok = false;
        }
    }
    fclose(diag);
    err[errcap - 1] = 0;
    return ok;
}

unsigned admin_service_port(const char *ini_path, int svc)
{
    struct config *cfg = config_load(ini_path, (enum service)svc, NULL);
    if (cfg == NULL)
        return 0;
    unsigned port = cfg->svcport.port;
    config_free(cfg);
    return port;
}

/* spam_rules - the custom spam rules of a mail service, loaded. */
#include "core/spam_rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/file_read.h"

static void report(FILE *diag, const char *path, unsigned line, const char *reason)
{
    if (!diag)
        return;
    if (line)
        fprintf(diag, "%s:%u: %s\n", path, line, reason);
    else
        fprintf(diag, "%s: %s\n", path, reason);
}

static bool load_rule_file(struct spam_rules *r, FILE *diag)
{
    char err[128];
    size_t len;
    char *text = file_read_all(r->path, SPAM_RULES_FILE_MAX, &len, err, sizeof(err));
    if (!text) {
        report(diag, r->path, 0, err);
        return false;
    }
    struct spam_rule *rule = malloc(sizeof(*rule));
    r->rules = calloc(SPAM_RULES_MAX, sizeof(*r->rules));
    bool ok = rule && r->rules;
    if (!ok)
        report(diag, r->path, 0, "out of memory");
    struct spam_rule_parser p;
    spam_rule_parser_init(&p, text, len);
    while (ok) {
        struct spam_rule_error e;
        enum spam_rule_result res = spam_rule_next(&p, rule, &e);
        if (res == SPAM_RULE_END)
            break;
        if (res == SPAM_RULE_ERROR) {
            report(diag, r->path, e.line, e.reason);
            ok = false;
            break;
        }
        r->rules[r->n++] = *rule; /* the parser caps the count at SPAM_RULES_MAX */
    }
    free(rule);
    free(text);
    return ok;
}

struct spam_rules *spam_rules_load(const char *dir, FILE *diag)
{
    struct spam_rules *r = calloc(1, sizeof(*r));
    char files[4096], err[128];
    if (!r) {
        report(diag, dir, 0, "out of memory");
        return NULL;
    }
    if ((size_t)snprintf(files, sizeof(files), "%s/files.txt", dir) >= sizeof(files)) {
        report(diag, dir, 0, "path too long");
        free(r);
        return NULL;
    }
    size_t len;
    char *text = file_read_all(files, SPAM_RULES_FILE_MAX, &len, err, sizeof(err));
    if (!text && errno == ENOENT)
        return r; /* no lists configured */
    if (!text) {
        report(diag, files, 0, err);
        free(r);
        return NULL;
    }
    struct spam_files sf;
    struct spam_rule_error e;
    enum spam_files_result fr = spam_files_parse(text, len, &sf, &e);
    bool ok = true;
    if (fr == SPAM_FILES_ERROR) {
        report(diag, files, e.line, e.reason);
        ok = false;
    } else if (fr == SPAM_FILES_NOT_BUILT) {
        char why[256];
        snprintf(why, sizeof(why), "%s (only CUSTOM lists are provided by this version)", e.reason);
        report(diag, files, e.line, why);
        ok = false;
    } else if (sf.custom) {
        if ((size_t)snprintf(r->path, sizeof(r->path), "%s/%.*s", dir, (int)sf.file.len,
                             sf.file.ptr) >= sizeof(r->path)) {
            report(diag, files, sf.line, "path too long");
            ok = false;
        } else {
            ok = load_rule_file(r, diag);
        }
    }
    free(text);
    if (!ok) {
        spam_rules_free(r);
        return NULL;
    }
    return r;
}

void spam_rules_free(struct spam_rules *r)
{
    if (!r)
        return;
    free(r->rules);
    free(r);
}

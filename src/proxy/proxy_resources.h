/* proxy_resources - what a service loads besides the ini file.
 *
 * The access table (hosts.allow), the templates of the service, the
 * gateway's host name and the product name (DESIGN: Sekisho/sekisho_<svc>/
 * <version>/<host> unless product_name is set). Loaded and validated by
 * the custom spam rules (core/spam_rules), loaded by
 * the master at start and on SIGHUP, before anything is swapped in; the
 * workers inherit a read-only copy.
 */
#ifndef SEKISHO_PROXY_RESOURCES_H
#define SEKISHO_PROXY_RESOURCES_H

#include <stdio.h>

#include "core/access.h"
#include "core/config.h"
#include "core/spam_rules.h"
#include "core/template.h"

struct proxy_resources {
    struct access_table *acl; /* NULL when the file is absent and no list is enabled */
    struct template *tpl_detect;
    struct template *tpl_error;
    struct template *tpl_admin;
    struct template *tpl_progress; /* HTTP with progress=yes only */
    struct template *tpl_smtp;     /* SMTP: sendback/delete notifications */
    struct template *tpl_smtp_lan; /* SMTP: the same for smtp_lan clients */
    struct template *tpl_pop;      /* POP: the message that replaces an infected one */
    struct spam_rules *spam_rules; /* SMTP/POP with spam_check: the custom rules (n may be 0) */
    char hostname[256];
    char product_name[320];
};

/* proxy_resources_load - load every file the service needs; report each
 * problem as file:line: reason on diag and return NULL if there is one. */
struct proxy_resources *proxy_resources_load(const struct config *cfg, FILE *diag);
void proxy_resources_free(struct proxy_resources *res);

#endif

/* proxy_resources - what a service loads besides the ini file. */
#include "proxy/proxy_resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/version.h"
#include "lib/str.h"

static bool any_acl_enabled(const struct config *cfg)
{
    return cfg->acl_from || cfg->acl_to || cfg->acl_pass_to || cfg->acl_rcpt || cfg->lan ||
           cfg->spam_rbl;
}

/* apply_ini_lists - CFG-7: a pattern list given in the ini file (v5 style,
 * http_from= ...) takes the place of that field of hosts.allow, as the
 * guide's reload script writes it there. */
static bool apply_ini_lists(const struct config *cfg, struct access_table **acl, FILE *diag)
{
    const struct {
        enum hosts_allow_field field;
        const char *key;
        const char *value;
    } lists[] = {
        {HOSTS_ALLOW_HTTP_FROM, "http_from", cfg->http_from},
        {HOSTS_ALLOW_HTTP_TO, "http_to", cfg->http_to},
        {HOSTS_ALLOW_HTTP_PASS_TO, "http_pass_to", cfg->http_pass_to},
        {HOSTS_ALLOW_SMTP_FROM, "smtp_from", cfg->smtp_from},
        {HOSTS_ALLOW_SMTP_TO, "smtp_to", cfg->smtp_to},
        {HOSTS_ALLOW_SMTP_RCPT, "smtp_rcpt", cfg->smtp_rcpt},
        {HOSTS_ALLOW_SMTP_LAN, "smtp_lan", cfg->smtp_lan},
        {HOSTS_ALLOW_POP_FROM, "pop_from", cfg->pop_from},
        {HOSTS_ALLOW_POP_TO, "pop_to", cfg->pop_to},
        {HOSTS_ALLOW_FTP_FROM, "ftp_from", cfg->ftp_from},
        {HOSTS_ALLOW_FTP_TO, "ftp_to", cfg->ftp_to},
        {HOSTS_ALLOW_FTP_PASS_TO, "ftp_pass_to", cfg->ftp_pass_to},
    };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (!*lists[i].value)
            continue;
        if (!*acl && !(*acl = access_table_new()))
            return false;
        char origin[128];
        snprintf(origin, sizeof(origin), "%s [%s] %s", cfg->ini_path, service_name(cfg->service),
                 lists[i].key);
        if (access_table_set_list(*acl, lists[i].field, lists[i].value, strlen(lists[i].value),
                                  origin, diag) < 0)
            return false;
    }
    return true;
}

/* SPAM-8: addresses never queried when hosts.allow has no spam_rbl_pass
 * field (options.tsv gives this default). */
#define SPAM_RBL_PASS_DEFAULT "127.0.0.1 10. 192.168. 172.16.0.0/255.240.0.0"

static bool rbl_pass_default(const struct config *cfg, struct access_table **acl, FILE *diag)
{
    if (*acl && access_table_has(*acl, HOSTS_ALLOW_SPAM_RBL_PASS))
        return true;
    if (!*acl && !(*acl = access_table_new()))
        return false;
    char origin[64];
    snprintf(origin, sizeof(origin), "%s default spam_rbl_pass", cfg->hosts_allow);
    return access_table_set_list(*acl, HOSTS_ALLOW_SPAM_RBL_PASS, SPAM_RBL_PASS_DEFAULT,
                                 strlen(SPAM_RBL_PASS_DEFAULT), origin, diag) == 0;
}

struct proxy_resources *proxy_resources_load(const struct config *cfg, FILE *diag)
{
    struct proxy_resources *res = calloc(1, sizeof(*res));
    if (!res)
        return NULL;
    bool ok = true;
    struct stat st;
    if (stat(cfg->hosts_allow, &st) == 0 || any_acl_enabled(cfg)) {
        res->acl = access_table_load(cfg->hosts_allow, diag);
        ok = res->acl != NULL;
    }
    ok = ok && apply_ini_lists(cfg, &res->acl, diag);
    const char *files[3] = {"template_http.html", "template_http_error.html", "template_admin.txt"};
    struct template **slots[3] = {&res->tpl_detect, &res->tpl_error, &res->tpl_admin};
    for (int i = 0; i < 3; i++) {
        *slots[i] = template_load(cfg->template_dir, files[i], diag);
        ok = ok && *slots[i] != NULL;
    }
    /* Loaded only when used, so a template_dir of an older version still
     * starts as long as progress is off. */
    if (cfg->service == SVC_SMTP) {
        res->tpl_smtp = template_load(cfg->template_dir, "template_smtp.txt", diag);
        res->tpl_smtp_lan = template_load(cfg->template_dir, "template_smtp_lan.txt", diag);
        ok = ok && res->tpl_smtp && res->tpl_smtp_lan;
    }
    if (cfg->service == SVC_POP) {
        res->tpl_pop = template_load(cfg->template_dir, "template_pop.txt", diag);
        ok = ok && res->tpl_pop;
    }
    /* Spam settings are read by the mail services that check spam only. */
    bool spam = (cfg->service == SVC_SMTP || cfg->service == SVC_POP) && cfg->spam_check;
    if (ok && spam) {
        res->spam_rules = spam_rules_load(cfg->spam_dir, diag);
        ok = res->spam_rules != NULL;
    }
    ok = ok && (!spam || !cfg->spam_rbl || rbl_pass_default(cfg, &res->acl, diag));
    if (cfg->service == SVC_HTTP && cfg->progress) {
        res->tpl_progress = template_load(cfg->template_dir, "template_http_progress.html", diag);
        ok = ok && res->tpl_progress != NULL;
    }
    if (*cfg->hostname)
        str_copy(res->hostname, sizeof(res->hostname), cfg->hostname);
    else if (gethostname(res->hostname, sizeof(res->hostname) - 1) < 0)
        str_copy(res->hostname, sizeof(res->hostname), "localhost");
    if (*cfg->product_name)
        str_copy(res->product_name, sizeof(res->product_name), cfg->product_name);
    else
        snprintf(res->product_name, sizeof(res->product_name), "Sekisho/sekisho_%s/%s/%s",
                 service_name(cfg->service), SEKISHO_VERSION_NODOTS, res->hostname);
    if (!ok) {
        proxy_resources_free(res);
        return NULL;
    }
    return res;
}

void proxy_resources_free(struct proxy_resources *res)
{
    if (!res)
        return;
    access_table_free(res->acl);
    template_free(res->tpl_detect);
    template_free(res->tpl_error);
    template_free(res->tpl_admin);
    template_free(res->tpl_progress);
    template_free(res->tpl_smtp);
    template_free(res->tpl_smtp_lan);
    template_free(res->tpl_pop);
    spam_rules_free(res->spam_rules);
    free(res);
}

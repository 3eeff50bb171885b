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
    const char *files[3] = {"template_http.html", "template_http_error.html", "template_admin.txt"};
    struct template **slots[3] = {&res->tpl_detect, &res->tpl_error, &res->tpl_admin};
    for (int i = 0; i < 3; i++) {
        *slots[i] = template_load(cfg->template_dir, files[i], diag);
        ok = ok && *slots[i] != NULL;
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
    free(res);
}

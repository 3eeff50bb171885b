/* admin_routes - see admin_routes.h. */
#include "admin/admin_routes.h"

#include <string.h>

#define GP (ROUTE_GET | ROUTE_POST)

static const struct admin_route routes[] = {
    {"/", ROUTE_GET, page_status},
    {"/settings/", GP | ROUTE_PREFIX, page_settings},
    {"/lists/", GP | ROUTE_PREFIX, page_lists},
    {"/definitions", GP, page_definitions},
    {"/logs", ROUTE_GET, page_logs},
    {"/quarantine", GP | ROUTE_PREFIX, page_quarantine},
    {"/account/password", GP | ROUTE_ANY_PASSWORD, page_password},
    {"/account/diag", GP, page_diag},
    {"/account/version", ROUTE_GET, page_version},
    {"/logout", GP | ROUTE_ANY_PASSWORD, page_logout},
    {"/lang", ROUTE_GET | ROUTE_ANY_PASSWORD, page_lang},
    {"/static/console.css", ROUTE_GET | ROUTE_OPEN, page_css},
    {"/metrics", ROUTE_GET | ROUTE_METRICS, page_metrics},
};

const struct admin_route *admin_route_find(const char *path)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct admin_route *r = &routes[i];
        if (r->flags & ROUTE_PREFIX) {
            size_t n = strlen(r->path);
            /* "/quarantine" also matches "/quarantine/..." */
            if (strncmp(path, r->path, n) == 0)
                return r;
            if (r->path[n - 1] != '/' && strncmp(path, r->path, n) == 0)
                return r;
        } else if (strcmp(path, r->path) == 0) {
            return r;
        }
    }
    return NULL;
}

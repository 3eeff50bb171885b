/* admin_routes - the table of the console's pages: one row per path. */
#ifndef SEKISHO_ADMIN_ADMIN_ROUTES_H
#define SEKISHO_ADMIN_ADMIN_ROUTES_H

#include "admin/admin.h"

typedef void admin_page_fn(struct admin_req *rq);

enum admin_route_flags {
    ROUTE_OPEN = 1u << 0,         /* no login (the style sheet) */
    ROUTE_PREFIX = 1u << 1,       /* path is a prefix ("/settings/") */
    ROUTE_POST = 1u << 2,         /* takes POST (with the CSRF token) */
    ROUTE_GET = 1u << 3,          /* takes GET */
    ROUTE_ANY_PASSWORD = 1u << 4, /* reachable while the default password must be changed */
    ROUTE_METRICS = 1u << 5,      /* /metrics: a token or an allowed address, no digest */
};

struct admin_route {
    const char *path;
    unsigned flags;
    admin_page_fn *fn;
};

/* The pages (page_*.c). */
admin_page_fn page_status, page_settings, page_password, page_version, page_logout, page_lang,
    page_css, page_metrics, page_lists, page_definitions, page_logs, page_quarantine, page_diag;

/* admin_route_find - the row for path, NULL when none. */
const struct admin_route *admin_route_find(const char *path);

#endif

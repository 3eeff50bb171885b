/* admin_view - a log file's newest lines as HTML (the Logs page and the
 * update log of the Definitions page): core/log_view reads them, newest
 * first and converted as logconv does (LOG-7), this escapes them. */
#ifndef SEKISHO_ADMIN_ADMIN_VIEW_H
#define SEKISHO_ADMIN_ADMIN_VIEW_H

#include "admin/admin.h"

#define ADMIN_LOG_LINES_MAX 1000 /* CLI-6: "up to 1000 lines" */

/* admin_view_log - up to max_lines lines of path (filter: only lines that
 * contain it, NULL for all) into the page, with a line saying how many and
 * why it stopped. */
void admin_view_log(struct admin_req *rq, const char *path, size_t max_lines, const char *filter);

#endif

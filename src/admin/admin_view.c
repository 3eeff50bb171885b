/* admin_view - see admin_view.h. */
#include "admin/admin_view.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin_page.h"
#include "core/log_view.h"

void admin_view_log(struct admin_req *rq, const char *path, size_t max_lines, const char *filter)
{
    struct buf *b = rq->out;
    if (max_lines > ADMIN_LOG_LINES_MAX)
        max_lines = ADMIN_LOG_LINES_MAX;
    struct log_view_request lv = {.max_lines = max_lines, .convert = true};
    if (filter != NULL && filter[0] != 0) {
        size_t fl = strlen(filter);
        lv.filter = str_make(filter, fl > LOG_VIEW_FILTER_MAX ? LOG_VIEW_FILTER_MAX : fl);
    }
    struct buf *lines = buf_new(LOG_VIEW_OUT_CAP(max_lines, LOG_VIEW_LINE_MAX));
    struct log_view_result res;
    char err[256];
    if (lines == NULL) {
        page_notice(rq, "error", "out of memory");
        return;
    }
    if (log_view_read(path, &lv, lines, &res, err, sizeof(err)) < 0) {
        char t[PATH_MAX + 300];
        if (errno == ENOENT)
            str_format(t, sizeof(t), T(rq, T_LOG_NONE), path);
        else
            str_format(t, sizeof(t), "%s: %s", path, err);
        page_notice(rq, errno == ENOENT ? "info" : "error", t);
        buf_free(lines);
        return;
    }
    buf_append_cstr(b, "<p class=\"log-count\">");
    html_fmt(b, T(rq, T_LOG_COUNT), res.lines, path);
    if (res.read_limit)
        html_fmt(b, " %s", T(rq, T_LOG_READ_LIMIT));
    buf_append_cstr(b, "</p>");
    if (res.lines > 0) {
        buf_append_cstr(b, "<pre class=\"log\">");
        html_text(b, buf_rptr(lines), buf_len(lines));
        buf_append_cstr(b, "</pre>");
    }
    buf_free(lines);
}

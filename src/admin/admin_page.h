/* admin_page - the HTML of the console: escaping and the page frame.
 *
 * Every page is server-rendered HTML5 that works without JavaScript and
 * carries no inline script or style (the Content-Security-Policy forbids
 * both): the frame (language, skip link, main menu on the left, the work
 * area on the right, 003:618-629) and the pieces every form needs (the
 * CSRF token). Everything that comes from a file, a log or a form goes
 * through html_text/html_attr.
 */
#ifndef SEKISHO_ADMIN_ADMIN_PAGE_H
#define SEKISHO_ADMIN_ADMIN_PAGE_H

#include "admin/admin.h"
#include "admin/admin_text.h"

/* html_text - append s[0..n) escaped for element content and attribute
 * values (& < > " '); invalid UTF-8 bytes become U+FFFD. */
void html_text(struct buf *b, const char *s, size_t n);
void html_cstr(struct buf *b, const char *s);
/* html_fmt - printf into b, then escaped. */
void html_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* T - the text id in the request's language. */
const char *T(const struct admin_req *rq, enum admin_text_id id);

/* page_begin - doctype, head, the menu (active: the path of the menu item
 * to mark as the current page), <main> and the page's <h1>. */
void page_begin(struct admin_req *rq, const char *title, const char *active);
/* page_end - closes what page_begin opened. */
void page_end(struct admin_req *rq);

/* page_notice - a message box; kind "ok", "error" or "info". text is
 * escaped. */
void page_notice(struct admin_req *rq, const char *kind, const char *text);

/* form_begin - <form method="post" action="..."> with the CSRF token. */
void form_begin(struct admin_req *rq, const char *action);

/* admin_error_page - a whole page with status and one message. */
void admin_error_page(struct admin_req *rq, unsigned status, const char *message);

/* The style sheet served at /static/console.css. */
extern const char admin_console_css[];

#endif

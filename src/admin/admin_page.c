/* admin_page - see admin_page.h. */
#include "admin/admin_page.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void html_text(struct buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            switch (c) {
            case '&':
                buf_append_cstr(b, "&amp;");
                break;
            case '<':
                buf_append_cstr(b, "&lt;");
                break;
            case '>':
                buf_append_cstr(b, "&gt;");
                break;
            case '"':
                buf_append_cstr(b, "&quot;");
                break;
            case '\'':
                buf_append_cstr(b, "&#39;");
                break;
            default:
                /* Control bytes other than tab and line ends are not text. */
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                    buf_append_cstr(b, "\xef\xbf\xbd");
                else if (c == 0x7f)
                    buf_append_cstr(b, "\xef\xbf\xbd");
                else
                    buf_append(b, p, 1);
            }
            p++;
            continue;
        }
        /* A well-formed UTF-8 sequence is copied; anything else is U+FFFD. */
        size_t len = 0;
        uint32_t cp = 0;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        }
        bool ok = len > 0 && (size_t)(end - p) >= len;
        for (size_t i = 1; ok && i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                ok = false;
            else
                cp = cp << 6 | (p[i] & 0x3f);
        }
        if (ok && ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
                   (len == 4 && (cp < 0x10000 || cp > 0x10ffff))))
            ok = false;
        if (ok) {
            buf_append(b, p, len);
            p += len;
        } else {
            buf_append_cstr(b, "\xef\xbf\xbd");
            p++;
        }
    }
}

void html_cstr(struct buf *b, const char *s)
{
    if (s != NULL)
        html_text(b, s, strlen(s));
}

void html_fmt(struct buf *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    html_text(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

const char *T(const struct admin_req *rq, enum admin_text_id id)
{
    return admin_text(rq->lang, id);
}

struct menu_item {
    const char *path; /* NULL: a heading without a page */
    enum admin_text_id text;
    unsigned depth;
};

/* The guide's menu (CLI-6), with Status and Quarantine added. */
static const struct menu_item menu[] = {
    {"/", T_MENU_STATUS, 0},
    {NULL, T_MENU_PROXY, 0},
    {"/settings/http", T_MENU_HTTP, 1},
    {"/settings/smtp", T_MENU_SMTP, 1},
    {"/settings/pop", T_MENU_POP, 1},
    {"/settings/ftp", T_MENU_FTP, 1},
    {"/settings/common", T_MENU_COMMON, 1},
    {"/lists/hosts", T_MENU_HOSTS, 1},
    {"/lists/templates", T_MENU_TEMPLATES, 1},
    {"/lists/spam", T_MENU_SPAM, 1},
    {"/lists/users", T_MENU_USERS, 1},
    {"/lists/nat", T_MENU_NAT, 1},
    {"/definitions", T_MENU_DEFS, 0},
    {"/logs", T_MENU_LOGS, 0},
    {"/quarantine", T_MENU_QUARANTINE, 0},
    {"/account/password", T_MENU_PASSWORD, 0},
    {"/account/diag", T_MENU_DIAG, 0},
    {"/account/version", T_MENU_VERSION, 0},
    {"/logout", T_MENU_LOGOUT, 0},
};

static void menu_write(struct admin_req *rq, const char *active)
{
    struct buf *b = rq->out;
    buf_printf(b, "<nav class=\"menu\" aria-label=\"");
    html_cstr(b, T(rq, T_MAIN_MENU));
    buf_append_cstr(b, "\"><ul>");
    unsigned depth = 0;
    for (size_t i = 0; i < sizeof(menu) / sizeof(menu[0]); i++) {
        const struct menu_item *m = &menu[i];
        while (depth > m->depth) {
            buf_append_cstr(b, "</ul></li>");
            depth--;
        }
        buf_append_cstr(b, "<li>");
        if (m->path == NULL) {
            buf_append_cstr(b, "<span class=\"menu-head\">");
            html_cstr(b, T(rq, m->text));
            buf_append_cstr(b, "</span><ul>");
            depth++;
            continue;
        }
        buf_printf(b, "<a href=\"%s\"%s>", m->path,
                   active != NULL && strcmp(active, m->path) == 0 ? " aria-current=\"page\"" : "");
        html_cstr(b, T(rq, m->text));
        buf_append_cstr(b, "</a></li>");
    }
    while (depth > 0) {
        buf_append_cstr(b, "</ul></li>");
        depth--;
    }
    buf_append_cstr(b, "</ul></nav>");
}

void page_begin(struct admin_req *rq, const char *title, const char *active)
{
    struct buf *b = rq->out;
    buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">",
               admin_lang_code(rq->lang));
    buf_append_cstr(b, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                       "<title>");
    html_cstr(b, title);
    buf_append_cstr(b, " - ");
    html_cstr(b, T(rq, T_PRODUCT));
    buf_append_cstr(b,
                    "</title><link rel=\"stylesheet\" href=\"/static/console.css\"></head><body>");
    buf_append_cstr(b, "<a class=\"skip\" href=\"#main\">");
    html_cstr(b, T(rq, T_SKIP_TO_MAIN));
    buf_append_cstr(b, "</a><header class=\"top\"><span class=\"product\">");
    html_cstr(b, T(rq, T_PRODUCT));
    buf_append_cstr(b, "</span>");
    if (rq->user != NULL) {
        buf_append_cstr(b, "<span class=\"user\">");
        html_fmt(b, T(rq, T_LOGGED_IN_AS), rq->user);
        buf_append_cstr(b, "</span>");
    }
    /* The switch keeps the viewer on the same page (003:2765: any time). */
    buf_printf(b, "<a class=\"lang\" lang=\"%s\" href=\"/lang?to=%s&amp;back=",
               rq->lang == ADMIN_LANG_JA ? "en" : "ja", rq->lang == ADMIN_LANG_JA ? "en" : "ja");
    html_cstr(b, active != NULL ? active : "/");
    buf_append_cstr(b, "\">");
    html_cstr(b, T(rq, T_LANG_SWITCH));
    buf_append_cstr(b, "</a></header><div class=\"frame\">");
    if (rq->user != NULL)
        menu_write(rq, active);
    buf_append_cstr(b, "<main id=\"main\"><h1>");
    html_cstr(b, title);
    buf_append_cstr(b, "</h1>");
}

void page_end(struct admin_req *rq)
{
    buf_append_cstr(rq->out, "</main></div></body></html>\n");
}

void page_notice(struct admin_req *rq, const char *kind, const char *text)
{
    buf_printf(rq->out, "<div class=\"notice %s\" role=\"%s\">", kind,
               strcmp(kind, "error") == 0 ? "alert" : "status");
    html_cstr(rq->out, text);
    buf_append_cstr(rq->out, "</div>");
}

void form_begin(struct admin_req *rq, const char *action)
{
    buf_append_cstr(rq->out, "<form method=\"post\" action=\"");
    html_cstr(rq->out, action);
    buf_append_cstr(rq->out, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
    html_cstr(rq->out, rq->csrf != NULL ? rq->csrf : "");
    buf_append_cstr(rq->out, "\">");
}

void admin_error_page(struct admin_req *rq, unsigned status, const char *message)
{
    buf_reset(rq->out);
    rq->status = status;
    char title[32];
    str_format(title, sizeof(title), "%u", status);
    page_begin(rq, title, NULL);
    page_notice(rq, "error", message);
    page_end(rq);
}

/* Colours meet WCAG AA contrast (4.5:1) on their backgrounds; focus is
 * always visible for keyboard use. */
const char admin_console_css[] =
    "*{box-sizing:border-box}\n"
    "body{margin:0;font-family:system-ui,'Noto Sans CJK JP',sans-serif;color:#1a1a1a;"
    "background:#fff;line-height:1.5}\n"
    "a{color:#0b4f9c}\n"
    "a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #c25400;"
    "outline-offset:2px}\n"
    ".skip{position:absolute;left:-999px}\n.skip:focus{left:8px;top:8px;background:#fff;"
    "padding:4px}\n"
    ".top{display:flex;gap:1.5em;align-items:center;padding:.5em 1em;background:#12355b;"
    "color:#fff}\n"
    ".top a{color:#fff}\n.top .product{font-weight:bold;flex:1}\n"
    ".frame{display:flex;align-items:flex-start}\n"
    ".menu{width:16em;padding:1em;background:#eef2f6;min-height:calc(100vh - 3em)}\n"
    ".menu ul{list-style:none;margin:0;padding:0}\n.menu ul ul{padding-left:1em}\n"
    ".menu li{margin:.15em 0}\n.menu-head{font-weight:bold}\n"
    ".menu a[aria-current]{font-weight:bold;color:#1a1a1a}\n"
    "main{flex:1;padding:1em 2em;max-width:70em}\n"
    "h1{font-size:1.5em;margin-top:0}\n"
    ".notice{padding:.6em 1em;margin:1em 0;border-left:6px solid}\n"
    ".notice.ok{background:#e8f5e9;border-color:#2e7d32}\n"
    ".notice.error{background:#fdecea;border-color:#b3261e}\n"
    ".notice.info{background:#e8f0fe;border-color:#0b4f9c}\n"
    "fieldset{border:1px solid #a0a8b0;margin:1em 0;padding:.5em 1em}\n"
    "legend{font-weight:bold;padding:0 .3em}\n"
    ".field{display:grid;grid-template-columns:18em 1fr;gap:.2em 1em;padding:.4em 0;"
    "border-bottom:1px solid #e0e4e8}\n"
    ".field .help{grid-column:2;font-size:.9em;color:#3d4650}\n"
    ".field .err{grid-column:2;color:#b3261e;font-weight:bold}\n"
    ".field input[type=text],.field input[type=number],.field select{width:100%;max-width:32em}\n"
    "textarea{width:100%;font-family:monospace}\n"
    "button{padding:.4em 1.2em;margin-right:.5em;border:1px solid #12355b;background:#12355b;"
    "color:#fff;border-radius:3px;cursor:pointer}\n"
    "button.secondary,a.button.secondary{background:#fff;color:#12355b}\n"
    "a.button{display:inline-block;padding:.4em 1.2em;border:1px solid #12355b;"
    "border-radius:3px;text-decoration:none}\n"
    ".actions{margin:1em 0}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{border:1px solid #c5ccd3;padding:.3em .5em;text-align:left;vertical-align:top}\n"
    "th{background:#eef2f6}\n"
    "pre.log{white-space:pre-wrap;word-break:break-all;font-size:.85em;background:#f6f8fa;"
    "padding:.5em;border:1px solid #c5ccd3}\n"
    ".state-on{color:#1b5e20;font-weight:bold}\n.state-off{color:#b3261e;font-weight:bold}\n"
    ".chart{width:100%;max-width:40em;height:auto;border:1px solid #c5ccd3}\n";

/* ftp_listing_format - an FTP directory listing as a simple HTML page (G-29). */
#include "proto/ftp_listing_format.h"

#include <string.h>

#include "proto/ftp_reply_parse.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t ftp_listing_path_decode(struct str raw, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < raw.len; i++) {
        char c = raw.ptr[i];
        if (c == '%' && i + 2 < raw.len && hexval(raw.ptr[i + 1]) >= 0 &&
            hexval(raw.ptr[i + 2]) >= 0) {
            c = (char)(hexval(raw.ptr[i + 1]) * 16 + hexval(raw.ptr[i + 2]));
            i += 2;
        }
        if (n + 1 >= cap)
            return (size_t)-1;
        out[n++] = c;
    }
    if (cap == 0)
        return (size_t)-1;
    out[n] = '\0';
    return n;
}

/* html - append s escaped for HTML text and attribute values; control
 * bytes (never part of a sensible name) are shown as '?'. */
static bool html(struct buf *b, struct str s)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        const char *rep = NULL;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                rep = "?";
            break;
        }
        if (rep ? !buf_append_cstr(b, rep) : !buf_append(b, &s.ptr[i], 1))
            return false;
    }
    return true;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* pct - append s percent-encoded: only unreserved bytes (RFC 3986 2.3)
 * and, when keep_slash, '/' stay as they are. The result needs no HTML
 * escaping. */
static bool pct(struct buf *b, struct str s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            if (!buf_append(b, &s.ptr[i], 1))
                return false;
            continue;
        }
        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
        if (!buf_append(b, e, sizeof(e)))
            return false;
    }
    return true;
}

/* dir_href - the directory path as an absolute-path link target ending in
 * '/'. A second leading '/' (the RFC 1738 "%2F" of an absolute server
 * path) is encoded, so the link never reads as "//authority". */
static bool dir_href(struct buf *b, struct str path)
{
    if (!buf_append_cstr(b, "/"))
        return false;
    if (path.len > 0 && path.ptr[0] == '/') {
        path.ptr++;
        path.len--;
    }
    if (path.len > 0 && path.ptr[0] == '/') {
        if (!buf_append_cstr(b, "%2F"))
            return false;
        path.ptr++;
        path.len--;
    }
    if (!pct(b, path, true))
        return false;
    if (path.len > 0 && path.ptr[path.len - 1] != '/' && !buf_append_cstr(b, "/"))
        return false;
    return true;
}

/* parent_of - the path of the parent directory, or false at the top. */
static bool parent_of(struct str path, struct str *parent)
{
    while (path.len > 0 && path.ptr[path.len - 1] == '/')
        path.len--;
    if (path.len == 0)
        return false;
    while (path.len > 0 && path.ptr[path.len - 1] != '/')
        path.len--;
    *parent = path; /* ends with '/' or is empty (the top) */
    return true;
}

static bool fail(struct buf *b, size_t wpos)
{
    b->wpos = wpos;
    return false;
}

bool ftp_listing_begin(struct buf *out, struct str host, uint16_t port, struct str path)
{
    size_t wpos = out->wpos;
    bool v6 = str_find_char(host, ':') >= 0;
    struct str shown = path.len > 0 ? path : STR_LIT("/");
    bool ok = true;
    for (int pass = 0; ok && pass < 2; pass++) {
        ok = buf_append_cstr(out, pass == 0 ? "<!DOCTYPE html>\n<html>\n<head>\n"
                                              "<meta charset=\"utf-8\">\n<title>Index of "
                                            : "</title>\n</head>\n<body>\n<h1>Index of ") &&
             buf_append_cstr(out, v6 ? "ftp://[" : "ftp://") && html(out, host) &&
             buf_append_cstr(out, v6 ? "]" : "") &&
             (port == FTP_LISTING_DEFAULT_PORT || buf_printf(out, ":%u", (unsigned)port)) &&
             (shown.ptr[0] == '/' || buf_append_cstr(out, "/")) && html(out, shown) &&
             (shown.ptr[shown.len - 1] == '/' || buf_append_cstr(out, "/"));
    }
    ok = ok && buf_append_cstr(out, "</h1>\n<ul>\n");
    struct str parent;
    if (ok && parent_of(path, &parent))
        ok = buf_append_cstr(out, "<li><a href=\"") && dir_href(out, parent) &&
             buf_append_cstr(out, "\">Parent Directory</a></li>\n");
    return ok ? true : fail(out, wpos);
}

bool ftp_listing_entry(struct buf *out, struct str path, struct str line)
{
    size_t wpos = out->wpos;
    struct ftp_list_entry e;
    enum ftp_list_result r = ftp_list_parse_line(line, &e);
    if (r == FTP_LIST_SKIP)
        return true;
    bool ok = buf_append_cstr(out, "<li>");
    if (r == FTP_LIST_UNKNOWN) {
        ok = ok && html(out, e.raw) && buf_append_cstr(out, "</li>\n");
        return ok ? true : fail(out, wpos);
    }
    ok = ok && buf_append_cstr(out, "<a href=\"") && dir_href(out, path) &&
         pct(out, e.name, false) && (!e.is_dir || buf_append_cstr(out, "/")) &&
         buf_append_cstr(out, "\">") && html(out, e.name) &&
         (!e.is_dir || buf_append_cstr(out, "/")) && buf_append_cstr(out, "</a>");
    if (e.type == FTP_LIST_LINK && e.target.len > 0)
        ok = ok && buf_append_cstr(out, " -&gt; ") && html(out, e.target) &&
             (e.mtime.len == 0 || buf_append_cstr(out, ","));
    /* Details as the server gave them: a file's size, then the time. */
    bool sized = e.has_size && e.type == FTP_LIST_FILE;
    if (sized)
        ok = ok && buf_printf(out, " %llu bytes", (unsigned long long)e.size);
    if (e.mtime.len > 0)
        ok = ok && buf_append_cstr(out, sized ? ", " : " ") && html(out, e.mtime);
    ok = ok && buf_append_cstr(out, "</li>\n");
    return ok ? true : fail(out, wpos);
}

bool ftp_listing_end(struct buf *out)
{
    return buf_append_cstr(out, "</ul>\n</body>\n</html>\n");
}

bool ftp_listing_format(struct buf *out, struct str host, uint16_t port, struct str path,
                        struct str listing)
{
    size_t wpos = out->wpos;
    if (!ftp_listing_begin(out, host, port, path))
        return false;
    struct str rest = listing, line;
    while (rest.len > 0) {
        if (!str_cut(rest, '\n', &line, &rest))
            rest.len = 0; /* line is the last, unterminated one */
        if (!ftp_listing_entry(out, path, line))
            return fail(out, wpos);
    }
    if (!ftp_listing_end(out))
        return fail(out, wpos);
    return true;
}

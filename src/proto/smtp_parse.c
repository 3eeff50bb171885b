/* smtp_parse - SMTP command lines, paths, replies and the EHLO edit. */
#include "proto/smtp_parse.h"

#include <inttypes.h>
#include <string.h>

#include "proto/text_line.h"

const char *smtp_result_name(enum smtp_result r)
{
    switch (r) {
    case SMTP_DONE:
        return "DONE";
    case SMTP_AGAIN:
        return "AGAIN";
    case SMTP_INVALID:
        return "INVALID";
    case SMTP_TOO_LONG:
        return "TOO_LONG";
    }
    return "?";
}

const char *smtp_path_status_name(enum smtp_path_status s)
{
    switch (s) {
    case SMTP_PATH_OK:
        return "OK";
    case SMTP_PATH_NO_PREFIX:
        return "NO_PREFIX";
    case SMTP_PATH_SYNTAX:
        return "SYNTAX";
    }
    return "?";
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* is_ctl - a control byte (HT included) or DEL. */
static bool is_ctl(char c)
{
    return (unsigned char)c < 0x20 || c == 0x7f;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- lines -------------------------------------------------------------- */

/* find_line - text_line_find in this parser's result codes. */
static enum smtp_result find_line(const char *buf, size_t len, size_t max, size_t *line_len,
                                  size_t *consumed)
{
    switch (text_line_find(buf, len, max, line_len, consumed)) {
    case TEXT_LINE_DONE:
        return SMTP_DONE;
    case TEXT_LINE_TOO_LONG:
        return SMTP_TOO_LONG;
    default:
        return SMTP_AGAIN;
    }
}

enum smtp_result smtp_line_find(const char *buf, size_t len, size_t *line_len, size_t *consumed)
{
    return find_line(buf, len, SMTP_LINE_MAX, line_len, consumed);
}

/* ---- commands ----------------------------------------------------------- */

static const struct {
    enum smtp_verb verb;
    const char *name;
} verbs[] = {
    {SMTP_V_HELO, "HELO"}, {SMTP_V_EHLO, "EHLO"},         {SMTP_V_MAIL, "MAIL"},
    {SMTP_V_RCPT, "RCPT"}, {SMTP_V_DATA, "DATA"},         {SMTP_V_RSET, "RSET"},
    {SMTP_V_VRFY, "VRFY"}, {SMTP_V_EXPN, "EXPN"},         {SMTP_V_HELP, "HELP"},
    {SMTP_V_NOOP, "NOOP"}, {SMTP_V_QUIT, "QUIT"},         {SMTP_V_XFORWARD, "XFORWARD"},
    {SMTP_V_AUTH, "AUTH"}, {SMTP_V_STARTTLS, "STARTTLS"}, {SMTP_V_BDAT, "BDAT"},
};

const char *smtp_verb_name(enum smtp_verb v)
{
    if (v == SMTP_V_UNKNOWN)
        return "UNKNOWN";
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (verbs[i].verb == v)
            return verbs[i].name;
    return "?";
}

void smtp_command_parse(struct str line, struct smtp_command *out)
{
    size_t i = 0, end = line.len;
    bool ctl = false;
    for (size_t k = 0; k < line.len; k++)
        ctl |= is_ctl(line.ptr[k]) && line.ptr[k] != '\t';
    while (i < end && is_blank(line.ptr[i]))
        i++;
    size_t v = i;
    while (i < end && !is_blank(line.ptr[i]))
        i++;
    out->verb_text = str_make(line.ptr + v, i - v);
    while (i < end && is_blank(line.ptr[i]))
        i++;
    while (end > i && is_blank(line.ptr[end - 1]))
        end--;
    out->arg = str_make(line.ptr + i, end - i);
    out->verb = SMTP_V_UNKNOWN;
    if (ctl)
        return;
    for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++) {
        if (str_caseeq_cstr(out->verb_text, verbs[k].name)) {
            out->verb = verbs[k].verb;
            break;
        }
    }
}

/* ---- paths -------------------------------------------------------------- */

/* quoted_end - s[i] is a '"': the index just after the closing quote, or
 * 0 when the quote is not closed or holds an HT (RFC 5321 qtextSMTP and
 * quoted-pairSMTP are SP and printable ASCII; other control bytes were
 * refused before). A backslash escapes the next byte. */
static size_t quoted_end(struct str s, size_t i)
{
    for (i++; i < s.len; i++) {
        if (s.ptr[i] == '\t')
            return 0;
        if (s.ptr[i] == '\\') {
            i++;
            if (i < s.len && s.ptr[i] == '\t')
                return 0;
            continue;
        }
        if (s.ptr[i] == '"')
            return i + 1;
    }
    return 0;
}

/* path_end - the index of the byte that ends the path starting at s[i]:
 * the closing '>' of a bracketed path (bracketed), else the first blank
 * or the end of s. Quoted strings are skipped whole. Returns s.len + 1
 * for a malformed path (see smtp_path_parse). */
static size_t path_end(struct str s, size_t i, bool bracketed)
{
    const size_t bad = s.len + 1;
    for (; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == '"') {
            size_t q = quoted_end(s, i);
            if (q == 0)
                return bad;
            /* a bare address has no brackets to keep a '<' or '>' apart */
            if (!bracketed && (memchr(s.ptr + i, '<', q - i) || memchr(s.ptr + i, '>', q - i)))
                return bad;
            i = q - 1;
            continue;
        }
        if (bracketed ? c == '>' : is_blank(c))
            return i;
        if (c == '<' || c == '\t' || (!bracketed && c == '>'))
            return bad;
    }
    return bracketed ? bad : s.len; /* an unterminated '<' */
}

enum smtp_path_status smtp_path_parse(struct str arg, const char *prefix, struct str *address,
                                      struct str *params)
{
    struct str pfx = str_from_cstr(prefix);
    if (!str_has_caseprefix(arg, pfx))
        return SMTP_PATH_NO_PREFIX;
    for (size_t k = 0; k < arg.len; k++)
        if (is_ctl(arg.ptr[k]) && arg.ptr[k] != '\t')
            return SMTP_PATH_SYNTAX;
    size_t i = pfx.len;
    while (i < arg.len && is_blank(arg.ptr[i]))
        i++;
    if (i == arg.len)
        return SMTP_PATH_SYNTAX;
    bool bracketed = arg.ptr[i] == '<';
    size_t a = bracketed ? i + 1 : i;
    size_t j = path_end(arg, a, bracketed);
    if (j > arg.len)
        return SMTP_PATH_SYNTAX;
    size_t alen = j - a;
    if (bracketed) {
        j++; /* the '>' */
        if (j < arg.len && !is_blank(arg.ptr[j]))
            return SMTP_PATH_SYNTAX; /* "<a@b>x" */
    }
    while (j < arg.len && is_blank(arg.ptr[j]))
        j++;
    size_t end = arg.len;
    while (end > j && is_blank(arg.ptr[end - 1]))
        end--;
    *address = str_make(arg.ptr + a, alen);
    *params = str_make(arg.ptr + j, end - j);
    return SMTP_PATH_OK;
}

/* ---- replies ------------------------------------------------------------ */

/* reply_prefix - check the first n bytes of a reply line (n may be short
 * of 4 when the line is incomplete or ended early). first is the code of
 * the reply's first line, 0 when this is the first line. complete: the
 * line has ended after these bytes. Returns INVALID or AGAIN (fine so
 * far); *code and *last are set once decided. */
static enum smtp_result reply_prefix(const char *p, size_t n, bool complete, unsigned first,
                                     unsigned *code, bool *last)
{
    size_t k = n < 3 ? n : 3;
    for (size_t i = 0; i < k; i++) {
        if (!is_digit(p[i]) || (i == 0 && (p[0] < '2' || p[0] > '5')))
            return SMTP_INVALID;
        /* A continuation must repeat the first line's code digit by digit. */
        if (first) {
            unsigned want = i == 0 ? first / 100 : i == 1 ? first / 10 % 10 : first % 10;
            if ((unsigned)(p[i] - '0') != want)
                return SMTP_INVALID;
        }
    }
    if (n < 3)
        return complete ? SMTP_INVALID : SMTP_AGAIN;
    if (n > 3 && p[3] != ' ' && p[3] != '-')
        return SMTP_INVALID;
    *code = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
    *last = n == 3 || p[3] == ' ';
    return SMTP_AGAIN;
}

enum smtp_result smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *out)
{
    out->code = 0;
    out->nlines = 0;
    out->len = 0;
    size_t off = 0;
    for (;;) {
        size_t line_len = 0, consumed = 0;
        unsigned code = 0;
        bool last = false;
        enum smtp_result r =
            find_line(buf + off, len - off, SMTP_REPLY_LINE_MAX, &line_len, &consumed);
        if (r != SMTP_DONE) {
            /* Judge what there is of the line first: garbage need not wait
             * for its line end, and the verdict on a line that is both
             * garbage and too long does not depend on how much of it has
             * arrived. */
            size_t have = len - off;
            if (have > 0 && buf[off + have - 1] == '\r')
                have--; /* may be the CR of the line end ("250\r" then LF) */
            if (reply_prefix(buf + off, have < 4 ? have : 4, false, out->code, &code, &last) !=
                SMTP_AGAIN)
                return SMTP_INVALID;
            return r;
        }
        const char *p = buf + off;
        if (reply_prefix(p, line_len < 4 ? line_len : 4, true, out->code, &code, &last) !=
            SMTP_AGAIN)
            return SMTP_INVALID;
        out->code = code;
        out->lines[out->nlines++] =
            line_len > 4 ? str_make(p + 4, line_len - 4) : str_make(p + line_len, 0);
        off += consumed;
        if (last) {
            out->len = off;
            return SMTP_DONE;
        }
        if (out->nlines == SMTP_REPLY_LINES_MAX)
            return SMTP_TOO_LONG; /* a continuation, and no room for its end */
    }
}

/* ---- EHLO edit and the proxy's own replies ------------------------------ */

/* ehlo_keyword - the keyword of an EHLO line: up to a blank or '='. */
static struct str ehlo_keyword(struct str line)
{
    size_t i = 0;
    while (i < line.len && !is_blank(line.ptr[i]) && line.ptr[i] != '=')
        i++;
    return str_make(line.ptr, i);
}

/* size_limit - the limit a SIZE line announces; 0 for none (RFC 1870:
 * "SIZE", "SIZE 0"; an unreadable number is taken as none too). */
static uint64_t size_limit(struct str line)
{
    struct str kw = ehlo_keyword(line);
    struct str rest = str_trim(str_make(line.ptr + kw.len, line.len - kw.len));
    uint64_t n = 0;
    if (!str_to_u64(rest, UINT64_MAX, &n))
        return 0;
    return n;
}

/* min_limit - the smaller of two limits where 0 means none. */
static uint64_t min_limit(uint64_t a, uint64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

/* append_code - "DDD" and sep; buf_append rather than buf_printf, which
 * wants a spare byte for its NUL and would refuse an exact fit. */
static bool append_code(struct buf *out, unsigned code, char sep)
{
    char c[4] = {(char)('0' + code / 100 % 10), (char)('0' + code / 10 % 10),
                 (char)('0' + code % 10), sep};
    return buf_append(out, c, sizeof(c));
}

bool smtp_ehlo_rewrite(struct buf *out, const struct smtp_reply *r, uint64_t max_size,
                       bool add_auth, bool keep_xforward)
{
    /* XCLIENT: never relayed (an unknown command here), so never offered. */
    static const char *const deleted[] = {"CHUNKING", "BINARYMIME", "PIPELINING", "STARTTLS",
                                          "XCLIENT"};
    struct str lines[SMTP_REPLY_LINES_MAX + 2];
    char size_line[sizeof("SIZE 18446744073709551615")];
    size_t n = 0;
    size_t nin = r->nlines < SMTP_REPLY_LINES_MAX ? r->nlines : SMTP_REPLY_LINES_MAX;
    if (nin == 0 || r->code < 200 || r->code > 599)
        return false; /* not a parsed reply */

    if (r->code != 250) {
        for (size_t i = 0; i < nin; i++)
            lines[n++] = r->lines[i];
    } else {
        bool edit_size = max_size != 0;
        uint64_t server = 0; /* the smallest server limit, 0 for none */
        bool server_size = false;
        for (size_t i = 1; i < nin; i++) {
            if (str_caseeq_cstr(ehlo_keyword(r->lines[i]), "SIZE")) {
                server = min_limit(server, size_limit(r->lines[i]));
                server_size = true;
            }
        }
        struct buf sb;
        buf_init(&sb, size_line, sizeof(size_line));
        if (!buf_printf(&sb, "SIZE %" PRIu64, min_limit(server, max_size)))
            return false; /* cannot happen: the buffer fits any uint64_t */
        struct str size_str = buf_view(&sb);
        bool size_done = false;
        if (nin > 0)
            lines[n++] = r->lines[0];
        for (size_t i = 1; i < nin; i++) {
            struct str kw = ehlo_keyword(r->lines[i]);
            bool drop = kw.len == 0;
            for (size_t k = 0; k < sizeof(deleted) / sizeof(deleted[0]) && !drop; k++)
                drop = str_caseeq_cstr(kw, deleted[k]);
            if (drop || (add_auth && str_caseeq_cstr(kw, "AUTH")) ||
                (!keep_xforward && str_caseeq_cstr(kw, "XFORWARD")))
                continue;
            if (edit_size && str_caseeq_cstr(kw, "SIZE")) {
                if (!size_done)
                    lines[n++] = size_str;
                size_done = true;
                continue;
            }
            lines[n++] = r->lines[i];
        }
        if (edit_size && !server_size)
            lines[n++] = size_str;
        if (add_auth)
            lines[n++] = STR_LIT(SMTP_EHLO_AUTH_LINE);
    }

    size_t saved = out->wpos;
    for (size_t i = 0; i < n; i++) {
        if (!append_code(out, r->code, i + 1 < n ? '-' : ' ') || !buf_append_str(out, lines[i]) ||
            !buf_append(out, "\r\n", 2)) {
            out->wpos = saved;
            return false;
        }
    }
    return true;
}

/* append_clean - the first n bytes of s with control bytes turned into
 * spaces. */
static bool append_clean(struct buf *out, const char *s, size_t n)
{
    if (buf_space(out) < n)
        return false;
    char *w = buf_wptr(out);
    for (size_t i = 0; i < n; i++)
        w[i] = is_ctl(s[i]) ? ' ' : s[i];
    buf_produce(out, n);
    return true;
}

bool smtp_reply_format(struct buf *out, unsigned code, const char *text, const char *product_name)
{
    /* "DDD " + text + " (" + product_name + ")" + CR LF */
    const size_t fixed = 4 + 2 + 1 + 2, budget = SMTP_REPLY_FORMAT_MAX - fixed;
    if (code < 200 || code > 599)
        return false;
    text = text ? text : "";
    product_name = product_name ? product_name : "";
    size_t plen = strnlen(product_name, budget);
    size_t tlen = strnlen(text, budget - plen);
    size_t saved = out->wpos;
    if (!append_code(out, code, ' ') || !append_clean(out, text, tlen) ||
        !buf_append(out, " (", 2) || !append_clean(out, product_name, plen) ||
        !buf_append(out, ")\r\n", 3)) {
        out->wpos = saved;
        return false;
    }
    return true;
}

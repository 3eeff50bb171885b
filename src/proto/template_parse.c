/* template_parse - render and check notification / detection templates.
 *
 * See template_parse.h for the contract. Everything here walks its input
 * once, writes only into the caller's struct buf (rewinding it on
 * overflow so a caller never sees half a page) and allocates nothing.
 */
#include "proto/template_parse.h"

#include <string.h>

/* Names in the order of enum template_parse_var_id (guide 003:3030-3135). */
static const char *const var_names[TEMPLATE_VAR_COUNT] = {
    [TEMPLATE_VAR_SERVICE_TYPE] = "SERVICE_TYPE",
    [TEMPLATE_VAR_DETECTION_NAME] = "DETECTION_NAME",
    [TEMPLATE_VAR_VIRUS_INFO_URL] = "VIRUS_INFO_URL",
    [TEMPLATE_VAR_CLIENT_HOST] = "CLIENT_HOST",
    [TEMPLATE_VAR_CLIENT_ADDR] = "CLIENT_ADDR",
    [TEMPLATE_VAR_SERVER_HOST] = "SERVER_HOST",
    [TEMPLATE_VAR_SERVER_ADDR] = "SERVER_ADDR",
    [TEMPLATE_VAR_STATUS] = "STATUS",
    [TEMPLATE_VAR_METHOD] = "METHOD",
    [TEMPLATE_VAR_URL] = "URL",
    [TEMPLATE_VAR_CONTENT_TYPE] = "CONTENT_TYPE",
    [TEMPLATE_VAR_CONTENT_LENGTH] = "CONTENT_LENGTH",
    [TEMPLATE_VAR_FILENAME] = "FILENAME",
    [TEMPLATE_VAR_QUARANTINE_FILE] = "QUARANTINE_FILE",
    [TEMPLATE_VAR_TIME] = "TIME",
    [TEMPLATE_VAR_TIME_STR] = "TIME_STR",
    [TEMPLATE_VAR_HEADER] = "HEADER",
    [TEMPLATE_VAR_TEXT] = "TEXT",
    [TEMPLATE_VAR_MAILFROM] = "MAILFROM",
    [TEMPLATE_VAR_RCPTTO] = "RCPTTO",
    [TEMPLATE_VAR_MESSAGE_ID] = "MESSAGE_ID",
    [TEMPLATE_VAR_ERROR_STR] = "ERROR_STR",
    [TEMPLATE_VAR_ACTION] = "ACTION",
    [TEMPLATE_VAR_PATH_QUERY] = "PATH_QUERY",
    [TEMPLATE_VAR_X_FORWARDED_FOR] = "X_FORWARDED_FOR",
};

#define TEMPLATE_PARSE_STR(x)  #x
#define TEMPLATE_PARSE_XSTR(x) TEMPLATE_PARSE_STR(x)

/* Longest address template_parse_mail_from accepts: RFC 5321 4.5.3.1.3
 * limits a path to 256 octets including the angle brackets. */
#define TEMPLATE_PARSE_ADDR_MAX 254

const char *template_parse_var_name(enum template_parse_var_id id)
{
    if ((unsigned)id >= TEMPLATE_VAR_COUNT)
        return "?";
    return var_names[id];
}

const char *template_parse_mode_name(enum template_parse_mode mode)
{
    switch (mode) {
    case TEMPLATE_PARSE_TEXT:
        return "text";
    case TEMPLATE_PARSE_HTML:
        return "html";
    case TEMPLATE_PARSE_MAIL:
        return "mail";
    }
    return "?";
}

const char *template_parse_result_name(enum template_parse_result r)
{
    switch (r) {
    case TEMPLATE_PARSE_DONE:
        return "DONE";
    case TEMPLATE_PARSE_TOO_LONG:
        return "TOO_LONG";
    }
    return "?";
}

const char *template_parse_check_name(enum template_parse_check c)
{
    switch (c) {
    case TEMPLATE_CHECK_OK:
        return "ok";
    case TEMPLATE_CHECK_TOO_BIG:
        return "template larger than " TEMPLATE_PARSE_XSTR(TEMPLATE_PARSE_MAX_BYTES) " bytes";
    case TEMPLATE_CHECK_NUL:
        return "NUL byte in template";
    case TEMPLATE_CHECK_UTF8_BAD_BYTE:
        return "invalid UTF-8 (byte that cannot start a character)";
    case TEMPLATE_CHECK_UTF8_TRUNCATED:
        return "invalid UTF-8 (incomplete multi-byte sequence)";
    case TEMPLATE_CHECK_UTF8_OVERLONG:
        return "invalid UTF-8 (overlong encoding)";
    case TEMPLATE_CHECK_UTF8_SURROGATE:
        return "invalid UTF-8 (UTF-16 surrogate)";
    case TEMPLATE_CHECK_UTF8_RANGE:
        return "invalid UTF-8 (code point above U+10FFFF)";
    }
    return "?";
}

void template_parse_vars_init(struct template_parse_var *vars)
{
    for (size_t i = 0; i < TEMPLATE_VAR_COUNT; i++) {
        vars[i].name = var_names[i];
        vars[i].value = STR_NULL;
    }
}

/* ---- lines and header fields ------------------------------------------ */

/* line_end - end of the line starting at i, without its CRLF or LF; *next
 * gets the start of the following line (s.len when the text ends). */
static size_t line_end(struct str s, size_t i, size_t *next)
{
    const char *nl = i < s.len ? memchr(s.ptr + i, '\n', s.len - i) : NULL;
    if (!nl) {
        *next = s.len;
        return s.len;
    }
    size_t e = (size_t)(nl - s.ptr);
    *next = e + 1;
    if (e > i && s.ptr[e - 1] == '\r')
        e--;
    return e;
}

/* RFC 5322 3.6.8 ftext: printable ASCII except ':'. */
static bool is_ftext(unsigned char c)
{
    return c >= 33 && c <= 126 && c != ':';
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Length of the field name at the start of the line [i, end) when the
 * line is a header field ("Name:"), else 0. */
static size_t field_name_len(struct str s, size_t i, size_t end)
{
    size_t j = i;
    while (j < end && is_ftext((unsigned char)s.ptr[j]))
        j++;
    if (j == i || j >= end || s.ptr[j] != ':')
        return 0;
    return j - i;
}

struct field {
    struct str raw;   /* first line, continuation lines and the last line ending */
    struct str name;  /* text before ':'; empty when the line is not a field */
    struct str value; /* trimmed value, continuation lines included */
    struct str eol;   /* ending of the first line: "\r\n", "\n" or empty */
};

/* next_field - the header field starting at *pos. Returns false at the end
 * of the text or at a blank line (the end of a header section). */
static bool next_field(struct str h, size_t *pos, struct field *f)
{
    size_t i = *pos, next;
    if (i >= h.len)
        return false;
    size_t end = line_end(h, i, &next);
    if (end == i)
        return false; /* blank line */
    f->eol = str_make(h.ptr + end, next - end);
    size_t nlen = field_name_len(h, i, end);
    f->name = str_make(h.ptr + i, nlen);
    size_t vstart = nlen ? i + nlen + 1 : i;
    size_t vend = end;
    /* RFC 5322 2.2.3: a line starting with WSP continues the field. */
    while (next < h.len && is_wsp(h.ptr[next]))
        vend = line_end(h, next, &next);
    f->value = str_trim(str_make(h.ptr + vstart, vend - vstart));
    f->raw = str_make(h.ptr + i, next - i);
    *pos = next;
    return true;
}

/* split_offsets - header length and body offset of a mail text (the rule
 * of template_parse_split_mail). */
static bool split_offsets(struct str s, size_t *hdr_len, size_t *body_off)
{
    size_t next, end = line_end(s, 0, &next);
    if (s.len == 0 || (end == 0 && next > 0)) {
        *hdr_len = 0; /* a leading blank line: empty header section */
        *body_off = next;
        return s.len > 0;
    }
    if (field_name_len(s, 0, end) == 0) {
        *hdr_len = 0;
        *body_off = 0;
        return false;
    }
    size_t i = 0;
    while (i < s.len) {
        end = line_end(s, i, &next);
        if (end == i) {
            *hdr_len = i;
            *body_off = next;
            return true;
        }
        i = next;
    }
    *hdr_len = s.len;
    *body_off = s.len;
    return true;
}

bool template_parse_split_mail(struct str rendered, struct str *header, struct str *body)
{
    size_t hlen, boff;
    bool found = split_offsets(rendered, &hlen, &boff);
    *header = str_make(rendered.ptr, hlen);
    *body = str_make(rendered.ptr + boff, rendered.len - boff);
    return found;
}

bool template_parse_header_find(struct str header, const char *name, struct str *value)
{
    struct str want = str_from_cstr(name);
    size_t pos = 0;
    struct field f;
    while (next_field(header, &pos, &f)) {
        if (f.name.len && str_caseeq(f.name, want)) {
            *value = f.value;
            return true;
        }
    }
    return false;
}

/* ---- rendering --------------------------------------------------------- */

static bool is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static const struct str *lookup(const struct template_parse_var *vars, size_t nvars,
                                struct str name)
{
    for (size_t k = 0; k < nvars; k++) {
        if (vars[k].name && vars[k].value.ptr && str_eq_cstr(name, vars[k].name))
            return &vars[k].value;
    }
    return NULL;
}

/* HTML escaping of the five characters that matter in text and in quoted
 * attribute values (OWASP rule #1). */
static bool append_html(struct buf *out, struct str v)
{
    size_t run = 0;
    for (size_t i = 0; i < v.len; i++) {
        const char *ent;
        switch (v.ptr[i]) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            continue;
        }
        if (!buf_append(out, v.ptr + run, i - run) || !buf_append_cstr(out, ent))
            return false;
        run = i + 1;
    }
    return buf_append(out, v.ptr + run, v.len - run);
}

static bool is_ctl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* A value inside a mail header section: controls become spaces so the
 * value stays on its header line. */
static bool append_header_safe(struct buf *out, struct str v)
{
    size_t run = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (!is_ctl((unsigned char)v.ptr[i]))
            continue;
        if (!buf_append(out, v.ptr + run, i - run) || !buf_append(out, " ", 1))
            return false;
        run = i + 1;
    }
    return buf_append(out, v.ptr + run, v.len - run);
}

enum template_parse_result template_parse_render(struct str tpl, enum template_parse_mode mode,
                                                 const struct template_parse_var *vars,
                                                 size_t nvars, struct buf *out)
{
    size_t start = out->wpos;
    size_t hdr_end = 0, body_off;
    if (mode == TEMPLATE_PARSE_MAIL)
        split_offsets(tpl, &hdr_end, &body_off);

    const char *p = tpl.ptr;
    size_t n = tpl.len, i = 0, run = 0;
    while (i < n) {
        char sigil = p[i];
        if ((sigil != '$' && sigil != '#') || i + 1 >= n || p[i + 1] != '{') {
            i++;
            continue;
        }
        size_t ns = i + 2, j = ns;
        while (j < n && j - ns <= TEMPLATE_PARSE_NAME_MAX && is_name_char(p[j]))
            j++;
        size_t nlen = j - ns;
        if (nlen == 0 || nlen > TEMPLATE_PARSE_NAME_MAX || j >= n || p[j] != '}') {
            i++; /* not a reference: the sigil is literal */
            continue;
        }
        const struct str *val = lookup(vars, nvars, str_make(p + ns, nlen));
        if (!val) {
            i = j + 1; /* unknown or unset: "${NAME}" stays in the run */
            continue;
        }
        bool ok = buf_append(out, p + run, i - run);
        if (ok && mode == TEMPLATE_PARSE_HTML && sigil == '$')
            ok = append_html(out, *val);
        else if (ok && mode == TEMPLATE_PARSE_MAIL && i < hdr_end)
            ok = append_header_safe(out, *val);
        else if (ok)
            ok = buf_append_str(out, *val);
        if (!ok)
            goto too_long;
        i = j + 1;
        run = i;
    }
    if (!buf_append(out, p + run, n - run))
        goto too_long;
    return TEMPLATE_PARSE_DONE;

too_long:
    out->wpos = start; /* all or nothing */
    return TEMPLATE_PARSE_TOO_LONG;
}

/* ---- validation -------------------------------------------------------- */

static bool is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* check_utf8 - problem with the character starting at s[i], storing its
 * length in *len when it is well formed (RFC 3629 section 4 table). */
static enum template_parse_check check_utf8(const unsigned char *s, size_t n, size_t i, size_t *len)
{
    unsigned char c = s[i];
    size_t need;
    if (c == 0)
        return TEMPLATE_CHECK_NUL;
    if (c < 0x80) {
        *len = 1;
        return TEMPLATE_CHECK_OK;
    }
    if (c < 0xC0)
        return TEMPLATE_CHECK_UTF8_BAD_BYTE; /* continuation byte without a lead */
    if (c < 0xC2)
        return TEMPLATE_CHECK_UTF8_OVERLONG; /* C0/C1 can only encode U+0000..U+007F */
    if (c < 0xE0)
        need = 2;
    else if (c < 0xF0)
        need = 3;
    else if (c < 0xF5)
        need = 4;
    else if (c < 0xF8)
        return TEMPLATE_CHECK_UTF8_RANGE; /* F5..F7 start code points above U+10FFFF */
    else
        return TEMPLATE_CHECK_UTF8_BAD_BYTE;
    for (size_t k = 1; k < need; k++) {
        if (i + k >= n || !is_cont(s[i + k]))
            return TEMPLATE_CHECK_UTF8_TRUNCATED;
    }
    unsigned char c1 = s[i + 1];
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xF0 && c1 < 0x90))
        return TEMPLATE_CHECK_UTF8_OVERLONG;
    if (c == 0xED && c1 >= 0xA0)
        return TEMPLATE_CHECK_UTF8_SURROGATE;
    if (c == 0xF4 && c1 >= 0x90)
        return TEMPLATE_CHECK_UTF8_RANGE;
    *len = need;
    return TEMPLATE_CHECK_OK;
}

enum template_parse_check template_parse_validate(struct str text, size_t max,
                                                  struct template_parse_pos *pos)
{
    struct template_parse_pos dummy;
    if (!pos)
        pos = &dummy;
    if (text.len > max) {
        *pos = (struct template_parse_pos){max, 0, 0};
        return TEMPLATE_CHECK_TOO_BIG;
    }
    const unsigned char *s = (const unsigned char *)text.ptr;
    size_t line = 1, line_start = 0, i = 0;
    while (i < text.len) {
        size_t len = 0;
        enum template_parse_check c = check_utf8(s, text.len, i, &len);
        if (c != TEMPLATE_CHECK_OK) {
            *pos = (struct template_parse_pos){i, line, i - line_start + 1};
            return c;
        }
        if (s[i] == '\n') {
            line++;
            line_start = i + 1;
        }
        i += len;
    }
    *pos = (struct template_parse_pos){text.len, line, text.len - line_start + 1};
    return TEMPLATE_CHECK_OK;
}

/* ---- From: address ----------------------------------------------------- */

/* RFC 5321 4.1.2 / RFC 5322 3.2.3 atext. */
static bool is_atext(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_domain_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

/* addr_is_safe - local@domain in the conservative shape described in the
 * header; nothing that could break out of "MAIL FROM:<...>". */
static bool addr_is_safe(struct str a)
{
    if (a.len < 3 || a.len > TEMPLATE_PARSE_ADDR_MAX)
        return false;
    long at = -1;
    for (size_t i = 0; i < a.len; i++) {
        if (a.ptr[i] == '@') {
            if (at >= 0)
                return false;
            at = (long)i;
        }
    }
    if (at <= 0 || (size_t)at + 1 >= a.len)
        return false;
    for (size_t i = 0; i < (size_t)at; i++) {
        unsigned char c = (unsigned char)a.ptr[i];
        if (!is_atext(c) && c != '.')
            return false;
    }
    struct str d = str_make(a.ptr + at + 1, a.len - (size_t)at - 1);
    size_t lo = 0, hi = d.len;
    if (d.ptr[0] == '[') { /* address literal, RFC 5321 4.1.3 */
        if (d.len < 3 || d.ptr[d.len - 1] != ']')
            return false;
        lo = 1;
        hi = d.len - 1;
    }
    for (size_t i = lo; i < hi; i++) {
        unsigned char c = (unsigned char)d.ptr[i];
        if (!is_domain_char(c) && !(lo == 1 && c == ':'))
            return false;
    }
    return true;
}

/* Scanner state for quoted strings and (nested) comments, RFC 5322 3.2. */
struct from_scan {
    bool quoted;
    unsigned depth;
};

/* from_scan_step - advance over v[*i]; returns true when that byte is
 * outside quotes and comments and is not itself a delimiter of them. */
static bool from_scan_step(struct from_scan *st, struct str v, size_t *i)
{
    char c = v.ptr[*i];
    if (st->quoted || st->depth) {
        if (c == '\\' && *i + 1 < v.len)
            (*i)++; /* quoted-pair */
        else if (st->quoted && c == '"')
            st->quoted = false;
        else if (!st->quoted && c == '(')
            st->depth++;
        else if (!st->quoted && c == ')')
            st->depth--;
        return false;
    }
    if (c == '"') {
        st->quoted = true;
        return false;
    }
    if (c == '(') {
        st->depth = 1;
        return false;
    }
    return true;
}

/* find_angle - offset of the first '<' outside quotes and comments, or -1. */
static long find_angle(struct str v)
{
    struct from_scan st = {false, 0};
    for (size_t i = 0; i < v.len; i++) {
        if (from_scan_step(&st, v, &i) && v.ptr[i] == '<')
            return (long)i;
    }
    return -1;
}

/* bare_addr - first unquoted, uncommented whitespace-delimited token of v
 * that holds '@'; its offset goes to *off. */
static struct str bare_addr(struct str v, size_t *off)
{
    struct from_scan st = {false, 0};
    size_t tok = 0;
    bool in_tok = false;
    for (size_t i = 0; i <= v.len; i++) {
        bool plain = i < v.len && from_scan_step(&st, v, &i);
        bool sep = !plain || strchr(" \t\r\n", v.ptr[i]) != NULL;
        if (plain && !sep && !in_tok) {
            tok = i;
            in_tok = true;
        } else if (sep && in_tok) {
            struct str t = str_make(v.ptr + tok, i - tok);
            in_tok = false;
            if (memchr(t.ptr, '@', t.len)) {
                *off = tok;
                return t;
            }
        }
        if (i >= v.len)
            break;
    }
    return STR_NULL;
}

/* angle_addr - the text between the '<' at lt and the next '>'. */
static bool angle_addr(struct str v, size_t lt, struct str *addr)
{
    const char *gt = memchr(v.ptr + lt + 1, '>', v.len - lt - 1);
    if (!gt)
        return false;
    *addr = str_trim(str_make(v.ptr + lt + 1, (size_t)(gt - v.ptr) - lt - 1));
    return true;
}

struct str template_parse_mail_from(struct str header)
{
    struct str v, addr;
    if (!template_parse_header_find(header, "From", &v))
        return STR_NULL;
    long lt = find_angle(v);
    if (lt >= 0) {
        if (!angle_addr(v, (size_t)lt, &addr))
            return STR_NULL;
    } else {
        size_t off;
        addr = bare_addr(v, &off);
    }
    return addr_is_safe(addr) ? addr : STR_NULL;
}

/* ---- RFC 2047 ---------------------------------------------------------- */

static bool append_base64(struct buf *out, const unsigned char *p, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char tmp[4 * ((TEMPLATE_PARSE_RFC2047_CHUNK + 2) / 3)];
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        tmp[o++] = alphabet[(v >> 18) & 63];
        tmp[o++] = alphabet[(v >> 12) & 63];
        tmp[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        tmp[o++] = i + 2 < n ? alphabet[v & 63] : '=';
    }
    return buf_append(out, tmp, o);
}

static bool append_word(struct buf *out, const unsigned char *chunk, size_t n, bool first,
                        struct str fold)
{
    return (first || buf_append_str(out, fold)) && buf_append_cstr(out, "=?UTF-8?B?") &&
           append_base64(out, chunk, n) && buf_append_cstr(out, "?=");
}

/* Length of the UTF-8 sequence a lead byte announces; 1 for bytes that
 * cannot lead (they are encoded alone rather than refused: the encoder
 * must not fail on text that came from a peer). */
static size_t utf8_seq_len(unsigned char c)
{
    if (c >= 0xC2 && c < 0xE0)
        return 2;
    if (c >= 0xE0 && c < 0xF0)
        return 3;
    if (c >= 0xF0 && c < 0xF5)
        return 4;
    return 1;
}

bool template_parse_rfc2047(struct str text, struct str fold, struct buf *out)
{
    size_t start = out->wpos;
    unsigned char chunk[TEMPLATE_PARSE_RFC2047_CHUNK];
    size_t clen = 0, i = 0;
    bool first = true;
    const unsigned char *s = (const unsigned char *)text.ptr;
    while (i < text.len) {
        if (s[i] == '\r' || s[i] == '\n') {
            i++; /* unfolding, RFC 5322 2.2.3 */
            continue;
        }
        size_t need = utf8_seq_len(s[i]), k = 1;
        while (k < need && i + k < text.len && is_cont(s[i + k]))
            k++;
        if (clen + k > sizeof(chunk)) {
            /* RFC 2047 5: each word holds whole characters. */
            if (!append_word(out, chunk, clen, first, fold))
                goto too_long;
            first = false;
            clen = 0;
        }
        memcpy(chunk + clen, s + i, k);
        clen += k;
        i += k;
    }
    if (clen && !append_word(out, chunk, clen, first, fold))
        goto too_long;
    return true;

too_long:
    out->wpos = start;
    return false;
}

static bool has_8bit(struct str s)
{
    for (size_t i = 0; i < s.len; i++) {
        if ((unsigned char)s.ptr[i] >= 0x80)
            return true;
    }
    return false;
}

/* The line ending written: CRLF on the wire, else the field's own (LF
 * when it has none, for folds inside the last line of a header). */
static struct str eol_for(const struct field *f, bool wire)
{
    if (wire || f->eol.len == 2)
        return STR_LIT("\r\n");
    return STR_LIT("\n");
}

/* fold_for - the line ending followed by a space: a fold between
 * encoded-words. */
static struct str fold_for(const struct field *f, bool wire)
{
    return eol_for(f, wire).len == 2 ? STR_LIT("\r\n ") : STR_LIT("\n ");
}

/* end_of_field - what ends the field's last line: CRLF on the wire (one is
 * added to a last line that had none), else the field's own ending. */
static struct str end_of_field(const struct field *f, bool wire)
{
    return wire ? STR_LIT("\r\n") : f->eol;
}

/* append_line_folded - one physical header line (without its ending)
 * followed by end, folded with fold_eol + WSP so that no line exceeds
 * TEMPLATE_PARSE_LINE_MAX bytes (RFC 5322 2.1.1). A fold goes before the
 * last blank that fits; a line with no blank to fold at is cut at a
 * UTF-8 character boundary and continued after an added space (its
 * unfolded value then holds one more space: better than a line that
 * servers refuse or cut). */
static bool append_line_folded(struct buf *out, struct str line, struct str fold_eol,
                               struct str end)
{
    bool lead_space = false;
    for (;;) {
        size_t room = TEMPLATE_PARSE_LINE_MAX - (lead_space ? 1 : 0);
        if (lead_space && !buf_append(out, " ", 1))
            return false;
        if (line.len <= room)
            return buf_append_str(out, line) && buf_append_str(out, end);
        size_t k = room; /* line.ptr[room] exists: line.len > room */
        while (k > 0 && !is_wsp(line.ptr[k]))
            k--;
        bool hard = k == 0;
        if (hard) {
            k = room;
            while (k > 1 && is_cont((unsigned char)line.ptr[k]))
                k--;
        }
        if (!buf_append(out, line.ptr, k) || !buf_append_str(out, fold_eol))
            return false;
        line = str_make(line.ptr + k, line.len - k);
        lead_space = hard;
    }
}

/* append_field_raw - the field as it is, each physical line folded when
 * too long and ended as end_of_field says. */
static bool append_field_raw(struct buf *out, const struct field *f, bool wire)
{
    struct str fold = eol_for(f, wire);
    size_t i = 0, next;
    while (i < f->raw.len) {
        size_t end = line_end(f->raw, i, &next);
        bool last = next >= f->raw.len;
        struct str own = str_make(f->raw.ptr + end, next - end);
        struct str ending = wire ? STR_LIT("\r\n") : own;
        if (last)
            ending = end_of_field(f, wire);
        if (!append_line_folded(out, str_make(f->raw.ptr + i, end - i), fold, ending))
            return false;
        i = next;
    }
    return true;
}

/* encode_from - the encoded form of a non-ASCII From: field, or false when
 * its shape is not one we rewrite (it is then copied as it is). */
static bool encode_from(const struct field *f, bool wire, struct buf *out, bool *fits)
{
    struct str v = f->value, display, addr;
    long lt = find_angle(v);
    bool bracketed = lt >= 0;
    *fits = true;
    if (bracketed) {
        if (!angle_addr(v, (size_t)lt, &addr))
            return false;
        display = str_trim(str_make(v.ptr, (size_t)lt));
        /* RFC 2047 5(3): no encoded-word inside a quoted-string. */
        if (display.len >= 2 && display.ptr[0] == '"' && display.ptr[display.len - 1] == '"')
            display = str_make(display.ptr + 1, display.len - 2);
    } else {
        size_t off;
        addr = bare_addr(v, &off);
        if (!addr.ptr)
            return false;
        /* "a@b (Name)": the comment after the address is the name. */
        struct str rest = str_trim(str_make(addr.ptr + addr.len, v.len - off - addr.len));
        if (rest.len < 2 || rest.ptr[0] != '(' || rest.ptr[rest.len - 1] != ')')
            return false;
        display = str_make(rest.ptr + 1, rest.len - 2);
    }
    if (!has_8bit(display) || has_8bit(addr))
        return false;
    *fits = buf_append_str(out, f->name) && buf_append(out, ": ", 2) &&
            template_parse_rfc2047(display, fold_for(f, wire), out) && buf_append(out, " <", 2) &&
            buf_append_str(out, addr) && buf_append(out, ">", 1) &&
            buf_append_str(out, end_of_field(f, wire));
    return true;
}

static enum template_parse_result encode_header(struct str header, bool wire, struct buf *out)
{
    size_t start = out->wpos, pos = 0;
    struct field f;
    while (next_field(header, &pos, &f)) {
        bool ok;
        if (f.name.len && str_caseeq_cstr(f.name, "Subject") && has_8bit(f.value)) {
            ok = buf_append_str(out, f.name) && buf_append(out, ": ", 2) &&
                 template_parse_rfc2047(f.value, fold_for(&f, wire), out) &&
                 buf_append_str(out, end_of_field(&f, wire));
        } else if (f.name.len && str_caseeq_cstr(f.name, "From") && has_8bit(f.value)) {
            size_t mark = out->wpos;
            if (!encode_from(&f, wire, out, &ok)) {
                out->wpos = mark;
                ok = append_field_raw(out, &f, wire);
            }
        } else {
            ok = append_field_raw(out, &f, wire);
        }
        if (!ok)
            goto too_long;
    }
    /* A blank line and what follows it are not header fields: copy them. */
    if (!buf_append(out, header.ptr + pos, header.len - pos))
        goto too_long;
    return TEMPLATE_PARSE_DONE;

too_long:
    out->wpos = start;
    return TEMPLATE_PARSE_TOO_LONG;
}

enum template_parse_result template_parse_encode_header(struct str header, struct buf *out)
{
    return encode_header(header, false, out);
}

enum template_parse_result template_parse_encode_header_wire(struct str header, struct buf *out)
{
    return encode_header(header, true, out);
}

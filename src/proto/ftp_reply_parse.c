/* ftp_reply_parse - FTP control replies, passive-mode addresses, LIST lines. */
#include "proto/ftp_reply_parse.h"

#include <string.h>

const char *ftp_reply_result_name(enum ftp_reply_result r)
{
    switch (r) {
    case FTP_REPLY_DONE:
        return "DONE";
    case FTP_REPLY_AGAIN:
        return "AGAIN";
    case FTP_REPLY_INVALID:
        return "INVALID";
    case FTP_REPLY_TOO_LONG:
        return "TOO_LONG";
    }
    return "?";
}

const char *ftp_list_result_name(enum ftp_list_result r)
{
    switch (r) {
    case FTP_LIST_ENTRY:
        return "ENTRY";
    case FTP_LIST_SKIP:
        return "SKIP";
    case FTP_LIST_UNKNOWN:
        return "UNKNOWN";
    }
    return "?";
}

const char *ftp_list_type_name(enum ftp_list_type t)
{
    switch (t) {
    case FTP_LIST_FILE:
        return "file";
    case FTP_LIST_DIR:
        return "dir";
    case FTP_LIST_LINK:
        return "link";
    case FTP_LIST_OTHER:
        return "other";
    }
    return "?";
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- control replies ---------------------------------------------------- */

void ftp_reply_init(struct ftp_reply *r)
{
    memset(r, 0, sizeof(*r));
    r->final = FTP_REPLY_AGAIN;
}

static void text_put(struct ftp_reply *r, char c)
{
    if (r->text_len < FTP_REPLY_TEXT_MAX) {
        r->text[r->text_len++] = c;
        r->text[r->text_len] = '\0';
    } else {
        r->truncated = true;
    }
}

/* text_add - a byte of a line: the text ends up in log lines and error
 * pages, so control bytes become spaces (the line separator '\n' is
 * put by text_put alone). */
static void text_add(struct ftp_reply *r, char c)
{
    text_put(r, (unsigned char)c < 0x20 || c == 0x7f ? ' ' : c);
}

/* classify - decide what the current line is from its first n prefix
 * bytes (n == 4, or fewer when the line ended early). */
static enum ftp_reply_result classify(struct ftp_reply *r, size_t n)
{
    const char *pf = r->prefix;
    r->decided = true;
    if (r->lines == 0) {
        /* RFC 959 4.2: three digits, the first 1-5, then SP or '-'. */
        if (n < 3 || pf[0] < '1' || pf[0] > '5' || !is_digit(pf[1]) || !is_digit(pf[2]))
            return FTP_REPLY_INVALID;
        if (n > 3 && pf[3] != ' ' && pf[3] != '-')
            return FTP_REPLY_INVALID;
        r->code = (pf[0] - '0') * 100 + (pf[1] - '0') * 10 + (pf[2] - '0');
        r->multi = n > 3 && pf[3] == '-';
        r->last_line = !r->multi;
        return FTP_REPLY_AGAIN;
    }
    text_put(r, '\n');
    bool same = n >= 3 && pf[0] - '0' == r->code / 100 && pf[1] - '0' == r->code / 10 % 10 &&
                pf[2] - '0' == r->code % 10;
    if (same && (n == 3 || pf[3] == ' ')) {
        r->last_line = true; /* "ddd text" ends the reply */
        return FTP_REPLY_AGAIN;
    }
    if (same && pf[3] == '-')
        return FTP_REPLY_AGAIN; /* "ddd-text": the repeated code is not text */
    for (size_t i = 0; i < n; i++)
        text_add(r, pf[i]);
    return FTP_REPLY_AGAIN;
}

/* feed - one byte of a line (never LF). */
static enum ftp_reply_result feed(struct ftp_reply *r, char c)
{
    if (r->line_len >= FTP_REPLY_LINE_MAX)
        return FTP_REPLY_TOO_LONG;
    r->line_len++;
    if (!r->decided) {
        r->prefix[r->line_len - 1] = c;
        return r->line_len == sizeof(r->prefix) ? classify(r, sizeof(r->prefix)) : FTP_REPLY_AGAIN;
    }
    text_add(r, c);
    return FTP_REPLY_AGAIN;
}

static enum ftp_reply_result stop(struct ftp_reply *r, enum ftp_reply_result res, size_t used,
                                  size_t *usedp)
{
    r->finished = true;
    r->final = res;
    *usedp = used;
    return res;
}

enum ftp_reply_result ftp_reply_parse(struct ftp_reply *r, const char *p, size_t len, size_t *used)
{
    *used = 0;
    if (r->finished)
        return r->final;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        enum ftp_reply_result res;
        if (c == '\n') {
            r->cr = false; /* CR LF: the CR is the line end, not text */
            if (!r->decided && classify(r, r->line_len) != FTP_REPLY_AGAIN)
                return stop(r, FTP_REPLY_INVALID, i + 1, used);
            r->lines++;
            if (r->last_line)
                return stop(r, FTP_REPLY_DONE, i + 1, used);
            if (r->lines >= FTP_REPLY_LINES_MAX)
                return stop(r, FTP_REPLY_TOO_LONG, i + 1, used);
            r->line_len = 0;
            r->decided = false;
            continue;
        }
        if (r->cr) {
            /* A CR inside a line is a byte of it (and becomes a space). */
            r->cr = false;
            res = feed(r, '\r');
            if (res != FTP_REPLY_AGAIN)
                return stop(r, res, i + 1, used);
        }
        if (c == '\r') {
            r->cr = true;
            continue;
        }
        res = feed(r, c);
        if (res != FTP_REPLY_AGAIN)
            return stop(r, res, i + 1, used);
    }
    *used = len;
    return FTP_REPLY_AGAIN;
}

/* ---- passive-mode addresses --------------------------------------------- */

/* number - 1 to maxdigits decimal digits at s[*i] with value <= max. */
static bool number(struct str s, size_t *i, size_t maxdigits, unsigned max, unsigned *out)
{
    size_t j = *i;
    unsigned v = 0;
    while (j < s.len && is_digit(s.ptr[j])) {
        if (j - *i == maxdigits)
            return false;
        v = v * 10 + (unsigned)(s.ptr[j] - '0');
        j++;
    }
    if (j == *i || v > max)
        return false;
    *i = j;
    *out = v;
    return true;
}

static bool pasv_at(struct str s, size_t i, uint8_t addr[4], uint16_t *port)
{
    unsigned v[6];
    for (size_t k = 0; k < 6; k++) {
        if (!number(s, &i, 3, 255, &v[k]))
            return false;
        if (k < 5) {
            if (i >= s.len || s.ptr[i] != ',')
                return false;
            i++;
        }
    }
    if (i < s.len && s.ptr[i] == ',')
        return false; /* a seventh number: not an address */
    unsigned p = v[4] * 256 + v[5];
    if (p == 0)
        return false;
    for (size_t k = 0; k < 4; k++)
        addr[k] = (uint8_t)v[k];
    *port = (uint16_t)p;
    return true;
}

enum ftp_reply_result ftp_reply_parse_pasv(struct str text, uint8_t addr[4], uint16_t *port)
{
    for (size_t i = 0; i < text.len; i++) {
        /* Start only at a number that does not continue a list: the
         * address is the first six numbers of a run, never its tail. */
        if (!is_digit(text.ptr[i]) ||
            (i > 0 && (is_digit(text.ptr[i - 1]) || text.ptr[i - 1] == ',')))
            continue;
        if (pasv_at(text, i, addr, port))
            return FTP_REPLY_DONE;
    }
    return FTP_REPLY_INVALID;
}

enum ftp_reply_result ftp_reply_parse_epsv(struct str text, uint16_t *port)
{
    for (size_t i = 0; i + 4 < text.len; i++) {
        if (text.ptr[i] != '(')
            continue;
        char d = text.ptr[i + 1];
        if (d < 33 || d > 126 || is_digit(d) || text.ptr[i + 2] != d || text.ptr[i + 3] != d)
            continue;
        size_t j = i + 4;
        unsigned v;
        if (!number(text, &j, 5, 65535, &v) || v == 0)
            continue;
        if (j + 1 >= text.len || text.ptr[j] != d || text.ptr[j + 1] != ')')
            continue;
        *port = (uint16_t)v;
        return FTP_REPLY_DONE;
    }
    return FTP_REPLY_INVALID;
}

/* ---- LIST lines --------------------------------------------------------- */

struct field {
    size_t off;
    size_t len;
};

/* split - up to max space-separated fields of s. */
static size_t split(struct str s, struct field *f, size_t max)
{
    size_t n = 0, i = 0;
    while (n < max) {
        while (i < s.len && (s.ptr[i] == ' ' || s.ptr[i] == '\t'))
            i++;
        if (i == s.len)
            break;
        f[n].off = i;
        while (i < s.len && s.ptr[i] != ' ' && s.ptr[i] != '\t')
            i++;
        f[n].len = i - f[n].off;
        n++;
    }
    return n;
}

static struct str field_str(struct str s, struct field f)
{
    return str_make(s.ptr + f.off, f.len);
}

static bool all_digits(struct str s, size_t min, size_t max)
{
    if (s.len < min || s.len > max)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!is_digit(s.ptr[i]))
            return false;
    return true;
}

static bool chars_in(struct str s, size_t from, size_t to, const char *set)
{
    for (size_t i = from; i < to; i++)
        if (s.ptr[i] == '\0' || !strchr(set, s.ptr[i]))
            return false;
    return true;
}

/* unix_perms - "drwxr-xr-x", optionally followed by an ACL/xattr mark. */
static bool unix_perms(struct str t)
{
    if (t.len < 10 || t.len > 11 || !chars_in(t, 0, 1, "-dlcbpsD"))
        return false;
    return chars_in(t, 1, 10, "-rwxsStTlL") && chars_in(t, 10, t.len, "+.@");
}

static bool month(struct str t)
{
    static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec"};
    for (size_t i = 0; i < 12; i++)
        if (str_caseeq_cstr(t, months[i]))
            return true;
    return false;
}

static bool day(struct str t)
{
    uint64_t v;
    return all_digits(t, 1, 2) && str_to_u64(t, 31, &v) && v >= 1;
}

/* time_or_year - "20:06", "9:05" or "2021". */
static bool time_or_year(struct str t)
{
    if (all_digits(t, 4, 4))
        return true;
    struct str h, m;
    return str_cut(t, ':', &h, &m) && all_digits(h, 1, 2) && all_digits(m, 2, 2);
}

static enum ftp_list_result name_result(struct ftp_list_entry *e)
{
    if (str_eq_cstr(e->name, ".") || str_eq_cstr(e->name, ".."))
        return FTP_LIST_SKIP;
    return e->name.len > 0 ? FTP_LIST_ENTRY : FTP_LIST_UNKNOWN;
}

static enum ftp_list_result parse_unix(struct str s, const struct field *f, size_t n,
                                       struct ftp_list_entry *e)
{
    /* perms [nlink] owner [group] size month day time|year name: find the
     * first month/day/time triple after a size; the name is what follows
     * the single space after the time (names may start with spaces). */
    for (size_t k = 2; k + 2 < n; k++) {
        if (!month(field_str(s, f[k])) || !day(field_str(s, f[k + 1])) ||
            !time_or_year(field_str(s, f[k + 2])))
            continue;
        struct str sz = field_str(s, f[k - 1]);
        if (!all_digits(sz, 1, 20) || !str_to_u64(sz, UINT64_MAX, &e->size))
            continue;
        size_t end = f[k + 2].off + f[k + 2].len;
        if (end + 1 >= s.len)
            return FTP_LIST_UNKNOWN;
        e->has_size = true;
        e->mtime = str_make(s.ptr + f[k].off, end - f[k].off);
        e->name = str_make(s.ptr + end + 1, s.len - end - 1);
        switch (s.ptr[0]) {
        case '-':
            e->type = FTP_LIST_FILE;
            break;
        case 'd':
            e->type = FTP_LIST_DIR;
            break;
        case 'l':
            e->type = FTP_LIST_LINK;
            break;
        default:
            e->type = FTP_LIST_OTHER;
            break;
        }
        e->is_dir = e->type == FTP_LIST_DIR;
        if (e->type == FTP_LIST_LINK) {
            for (size_t i = 0; i + 4 <= e->name.len; i++) {
                if (memcmp(e->name.ptr + i, " -> ", 4) == 0) {
                    e->target = str_make(e->name.ptr + i + 4, e->name.len - i - 4);
                    e->name.len = i;
                    break;
                }
            }
        }
        return name_result(e);
    }
    return FTP_LIST_UNKNOWN;
}

/* dos_date - "01-31-12" or "01-31-2012". */
static bool dos_date(struct str t)
{
    if (t.len != 8 && t.len != 10)
        return false;
    return all_digits(str_make(t.ptr, 2), 2, 2) && t.ptr[2] == '-' &&
           all_digits(str_make(t.ptr + 3, 2), 2, 2) && t.ptr[5] == '-' &&
           all_digits(str_make(t.ptr + 6, t.len - 6), 2, 4);
}

/* dos_time - "08:00PM", "08:00AM" or "20:00". */
static bool dos_time(struct str t)
{
    if (t.len == 7 && (str_caseeq(str_make(t.ptr + 5, 2), STR_LIT("AM")) ||
                       str_caseeq(str_make(t.ptr + 5, 2), STR_LIT("PM"))))
        t.len = 5;
    return t.len == 5 && all_digits(str_make(t.ptr, 2), 2, 2) && t.ptr[2] == ':' &&
           all_digits(str_make(t.ptr + 3, 2), 2, 2);
}

static enum ftp_list_result parse_dos(struct str s, const struct field *f, size_t n,
                                      struct ftp_list_entry *e)
{
    if (n < 4 || !dos_date(field_str(s, f[0])) || !dos_time(field_str(s, f[1])))
        return FTP_LIST_UNKNOWN;
    struct str what = field_str(s, f[2]);
    if (str_caseeq_cstr(what, "<DIR>")) {
        e->type = FTP_LIST_DIR;
        e->is_dir = true;
    } else if (all_digits(what, 1, 20) && str_to_u64(what, UINT64_MAX, &e->size)) {
        e->type = FTP_LIST_FILE;
        e->has_size = true;
    } else {
        return FTP_LIST_UNKNOWN;
    }
    e->mtime = str_make(s.ptr + f[0].off, f[1].off + f[1].len - f[0].off);
    e->name = str_make(s.ptr + f[3].off, s.len - f[3].off);
    return name_result(e);
}

enum ftp_list_result ftp_list_parse_line(struct str line, struct ftp_list_entry *e)
{
    memset(e, 0, sizeof(*e));
    while (line.len > 0 && (line.ptr[line.len - 1] == '\n' || line.ptr[line.len - 1] == '\r'))
        line.len--;
    e->raw = line;
    struct field f[FTP_LIST_FIELDS_MAX];
    size_t n = split(line, f, FTP_LIST_FIELDS_MAX);
    if (n == 0)
        return FTP_LIST_SKIP;
    struct str first = field_str(line, f[0]);
    if (n == 2 && str_eq_cstr(first, "total") && all_digits(field_str(line, f[1]), 1, 20))
        return FTP_LIST_SKIP;
    enum ftp_list_result r = FTP_LIST_UNKNOWN;
    if (f[0].off == 0 && unix_perms(first))
        r = parse_unix(line, f, n, e);
    else
        r = parse_dos(line, f, n, e);
    if (r == FTP_LIST_UNKNOWN) {
        memset(e, 0, sizeof(*e));
        e->raw = line;
    }
    return r;
}

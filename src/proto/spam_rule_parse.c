/* spam_rule_parse - see spam_rule_parse.h. */
#include "proto/spam_rule_parse.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const judgment_names[] = {"BLACK", "WHITE", "NONE"};

const char *spam_rule_judgment_name(enum spam_rule_judgment j)
{
    return (unsigned)j < sizeof(judgment_names) / sizeof(judgment_names[0]) ? judgment_names[j]
                                                                            : "?";
}

/* Indexed by enum spam_rule_field; HEADER is not a keyword of column 2. */
static const char *const field_names[] = {"HEADER",   "FILENAME", "FILESIZE", "TEXTBODY",
                                          "HTMLBODY", "URLHOST",  "RELAYIP",  "ALWAYS"};
#define FIELD_COUNT (sizeof(field_names) / sizeof(field_names[0]))

const char *spam_rule_field_name(enum spam_rule_field f)
{
    return (unsigned)f < FIELD_COUNT ? field_names[f] : "?";
}

static const struct {
    const char *name;
    unsigned flag;
} cmp_keywords[] = {
    {"IGNORECASE", SPAM_CMP_IGNORECASE},
    {"HEADMATCH", SPAM_CMP_HEADMATCH},
    {"TAILMATCH", SPAM_CMP_TAILMATCH},
    {"NOT", SPAM_CMP_NOT},
    {"AND", SPAM_CMP_AND},
    {"AND_SAMEPART", SPAM_CMP_AND_SAMEPART},
};

static const char *const list_names[] = {"CUSTOM",   "UCE",        "ADVERTISEMENT",
                                         "HTMLMAIL", "VIRUSERROR", "ERROR"};
#define LIST_COUNT (sizeof(list_names) / sizeof(list_names[0]))

const char *spam_list_name(enum spam_list l)
{
    return (unsigned)l < LIST_COUNT ? list_names[l] : "?";
}

struct str spam_rule_string(const struct spam_rule *r, unsigned i)
{
    if (i >= r->nstrings)
        return str_make(r->buf, 0);
    return str_make(r->buf + r->off[i], r->len[i]);
}

/* RFC 5322 ftext: printable US-ASCII but ':'. */
static bool is_ftext(char c)
{
    return c >= 33 && c <= 126 && c != ':';
}

static bool is_field_name(struct str s)
{
    if (s.len == 0 || s.len > SPAM_RULE_HEADER_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!is_ftext(s.ptr[i]))
            return false;
    return true;
}

/* is_ctl - NUL, the C0 controls (HT and CR included) and DEL. */
static bool is_ctl(char c)
{
    return (unsigned char)c < 0x20 || c == 0x7f;
}

/* A line of the text: its bytes without "\n" or "\r\n", and where the next
 * one starts. */
static struct str line_at(const char *text, size_t len, size_t pos, size_t *next)
{
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
    *next = nl ? pos + n + 1 : len;
    if (nl && n > 0 && nl[-1] == '\r')
        n--;
    return str_make(text + pos, n);
}

/* skipped - a comment ('#' first) or a line of blanks: counted, not a rule. */
static bool skipped(struct str l)
{
    if (l.len > 0 && l.ptr[0] == '#')
        return true;
    for (size_t i = 0; i < l.len; i++)
        if (l.ptr[i] != ' ' && l.ptr[i] != '\t')
            return false;
    return true;
}

void spam_rule_parser_init(struct spam_rule_parser *p, const char *text, size_t len)
{
    *p = (struct spam_rule_parser){.text = text, .len = len, .line = 1};
}

static enum spam_rule_result fail(struct spam_rule_parser *p, unsigned line, const char *reason,
                                  struct spam_rule_error *err)
{
    p->failed = reason;
    p->failed_line = line;
    err->line = line;
    err->reason = reason;
    return SPAM_RULE_ERROR;
}

/* parse_field - column 2 into r->field and r->header; NULL or the reason. */
static const char *parse_field(struct str col, struct spam_rule *r)
{
    for (size_t f = 1; f < FIELD_COUNT; f++) {
        if (str_eq_cstr(col, field_names[f])) {
            r->field = (enum spam_rule_field)f;
            return NULL;
        }
        if (str_caseeq_cstr(col, field_names[f]))
            return "column 2: field keyword not in upper case (it would be taken as a header "
                   "field name, which is case-insensitive)";
    }
    if (col.len == 0)
        return "column 2: empty field name";
    if (col.len > SPAM_RULE_HEADER_MAX)
        return "column 2: header field name longer than 29 characters";
    if (!is_field_name(col))
        return "column 2: not a field keyword or a header field name (printable ASCII "
               "without ':' or blanks)";
    r->field = SPAM_FIELD_HEADER;
    memcpy(r->header, col.ptr, col.len);
    r->header[col.len] = '\0';
    r->header_len = col.len;
    return NULL;
}

/* parse_compare - column 3 into r->flags; NULL or the reason. */
static const char *parse_compare(struct str col, struct spam_rule *r)
{
    r->flags = 0;
    if (col.len == 0)
        return NULL;
    struct str rest = col, kw;
    for (;;) {
        bool more = str_cut(rest, ',', &kw, &rest);
        unsigned flag = 0;
        for (size_t i = 0; i < sizeof(cmp_keywords) / sizeof(cmp_keywords[0]); i++)
            if (str_eq_cstr(kw, cmp_keywords[i].name))
                flag = cmp_keywords[i].flag;
        if (kw.len == 0)
            return "column 3: empty compare keyword (',' at the start or end, or ',,')";
        if (flag == 0)
            return "column 3: not IGNORECASE, HEADMATCH, TAILMATCH, NOT, AND or AND_SAMEPART";
        if (r->flags & flag)
            return "column 3: compare keyword given twice";
        r->flags |= flag;
        if (!more)
            break;
    }
    if ((r->flags & SPAM_CMP_AND) && (r->flags & SPAM_CMP_AND_SAMEPART))
        return "column 3: AND with AND_SAMEPART (one previous rule, one way to combine)";
    return NULL;
}

/* escape_at - the byte an escape at s[i] stands for, and its length in *n;
 * -1: not an escape (a plain byte); -2: a malformed '%' escape; -3: a
 * malformed "\x" escape. */
static int escape_at(struct str s, size_t i, size_t *n)
{
    const unsigned char *u = (const unsigned char *)s.ptr;
    size_t left = s.len - i;
    size_t skip;
    if (u[i] == '%') {
        if (left >= 2 && u[i + 1] == '%') {
            *n = 2;
            return '%';
        }
        skip = 1;
    } else if (u[i] == '\\' && left >= 2 && u[i + 1] == 'x') {
        skip = 1;
    } else if (u[i] == 0xc2 && left >= 3 && u[i + 1] == 0xa5 && u[i + 2] == 'x') {
        skip = 2; /* U+00A5 YEN SIGN, the guide's rendering of '\' */
    } else {
        return -1;
    }
    int bad = u[i] == '%' ? -2 : -3;
    if (left < skip + 3 || u[i + skip] != 'x')
        return bad;
    int hi = str_hex_digit(u[i + skip + 1]), lo = str_hex_digit(u[i + skip + 2]);
    if (hi < 0 || lo < 0)
        return bad;
    *n = skip + 3;
    return hi * 16 + lo;
}

static bool all_digits(struct str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

/* parse_text - column 4 decoded into r's strings; NULL or the reason. */
static const char *parse_text(struct str col, struct spam_rule *r)
{
    r->nstrings = 0;
    if (r->field == SPAM_FIELD_ALWAYS)
        return col.len == 0 ? NULL : "column 4: ALWAYS takes no search strings";
    if (col.len == 0)
        return "column 4: no search string";
    size_t out = 0, start = 0;
    for (size_t i = 0;;) {
        if (i == col.len || col.ptr[i] == ',') {
            size_t n = out - start;
            if (n == 0)
                return "column 4: empty search string (',' at the start or end, or ',,')";
            if (n > SPAM_RULE_STRING_MAX)
                return "column 4: search string longer than 1023 bytes once decoded";
            if (r->nstrings == SPAM_RULE_STRINGS_MAX)
                return "column 4: more than 64 search strings";
            r->off[r->nstrings] = (uint16_t)start;
            r->len[r->nstrings] = (uint16_t)n;
            if (r->field == SPAM_FIELD_FILESIZE && !all_digits(str_make(r->buf + start, n)))
                return "column 4: FILESIZE search string not decimal digits (a size in bytes)";
            r->nstrings++;
            if (i == col.len)
                return NULL;
            start = out;
            i++;
            continue;
        }
        size_t n = 1;
        int b = escape_at(col, i, &n);
        if (b == -2)
            return "column 4: '%' not followed by 'x' and two hex digits or by '%' (a literal "
                   "'%' is %%)";
        if (b == -3)
            return "column 4: '\\x' not followed by two hex digits";
        r->buf[out++] = b == -1 ? col.ptr[i] : (char)b;
        i += n;
    }
}

/* parse_rule - one rule line into *r; NULL or the reason. */
static const char *parse_rule(struct str l, struct spam_rule *r)
{
    struct str col[4], rest = l;
    for (size_t i = 0; i < l.len; i++)
        if (is_ctl(l.ptr[i]) && l.ptr[i] != '\t')
            return "control byte or NUL in the line (write it as %xHH)";
    for (size_t c = 0; c < 3; c++)
        if (!str_cut(rest, '\t', &col[c], &rest))
            return "fewer than 4 TAB-separated columns";
    col[3] = rest;
    if (str_find_char(col[3], '\t') >= 0)
        return "more than 4 TAB-separated columns (a TAB in a search string is %x09)";
    size_t j = 0;
    while (j < 3 && !str_eq_cstr(col[0], judgment_names[j]))
        j++;
    if (j == 3)
        return "column 1: not BLACK, WHITE or NONE";
    r->judgment = (enum spam_rule_judgment)j;
    const char *why = parse_field(col[1], r);
    if (!why)
        why = parse_compare(col[2], r);
    if (why)
        return why;
    if (r->field == SPAM_FIELD_HTMLBODY && (r->flags & (SPAM_CMP_HEADMATCH | SPAM_CMP_TAILMATCH)))
        return "column 3: HEADMATCH or TAILMATCH with HTMLBODY (not for the HTML body)";
    if (r->field == SPAM_FIELD_ALWAYS && (r->flags & ~(SPAM_CMP_AND | SPAM_CMP_AND_SAMEPART)))
        return "column 3: ALWAYS takes only AND or AND_SAMEPART (there is nothing to compare)";
    return parse_text(col[3], r);
}

enum spam_rule_result spam_rule_next(struct spam_rule_parser *p, struct spam_rule *rule,
                                     struct spam_rule_error *err)
{
    if (p->failed)
        return fail(p, p->failed_line, p->failed, err);
    for (;;) {
        if (p->pos >= p->len) {
            if (p->none_line)
                return fail(p, p->none_line,
                            "NONE rule not followed by an AND or AND_SAMEPART rule (it would "
                            "never act)",
                            err);
            return SPAM_RULE_END;
        }
        unsigned line = p->line;
        size_t next;
        struct str l = line_at(p->text, p->len, p->pos, &next);
        if (l.len > SPAM_RULE_LINE_MAX)
            return fail(p, line, "line longer than 4095 bytes", err);
        if (skipped(l)) {
            p->pos = next;
            p->line++;
            continue;
        }
        if (p->rules >= SPAM_RULES_MAX)
            return fail(p, line, "more than 100 rules", err);
        memset(rule, 0, offsetof(struct spam_rule, buf)); /* buf: written as decoded */
        rule->line = line;
        const char *why = parse_rule(l, rule);
        if (why)
            return fail(p, line, why, err);
        bool and = (rule->flags & (SPAM_CMP_AND | SPAM_CMP_AND_SAMEPART)) != 0;
        if (and&&p->rules == 0)
            return fail(p, line,
                        "column 3: AND or AND_SAMEPART on the first rule (no previous rule)", err);
        if (!and&&p->none_line)
            return fail(p, p->none_line,
                        "NONE rule not followed by an AND or AND_SAMEPART rule (it would never "
                        "act)",
                        err);
        p->none_line = rule->judgment == SPAM_RULE_NONE ? line : 0;
        rule->number = ++p->rules;
        p->pos = next;
        p->line++;
        return SPAM_RULE_RULE;
    }
}

size_t spam_rule_detection_name(const struct spam_rule *r, struct str found, char *out, size_t cap)
{
    struct str field;
    if (r->field != SPAM_FIELD_HEADER)
        field = str_from_cstr(spam_rule_field_name(r->field));
    else if (is_field_name(found))
        field = found;
    else
        field = str_make(r->header, r->header_len);
    int n =
        snprintf(out, cap, "SEKISHO/SPAM_LIST/CUSTOM/%u/%.*s", r->line, (int)field.len, field.ptr);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

/* check_file_name - a bare file name in conf/spam/; NULL or the reason. */
static const char *check_file_name(struct str f)
{
    if (f.len == 0)
        return "column 2: empty file name";
    if (f.len > SPAM_FILES_NAME_MAX)
        return "column 2: file name longer than 255 bytes";
    for (size_t i = 0; i < f.len; i++) {
        char c = f.ptr[i];
        if (c == '/' || c == '\\')
            return "column 2: file name with a '/' or '\\' (a file in conf/spam/ itself)";
        if (c == '.' && i + 1 < f.len && f.ptr[i + 1] == '.')
            return "column 2: file name with \"..\" (a file in conf/spam/ itself)";
        if ((unsigned char)c <= ' ' || c == 0x7f)
            return "column 2: blank, control byte or NUL in the file name";
    }
    if (str_eq_cstr(f, "."))
        return "column 2: file name \".\" is the directory";
    return NULL;
}

enum spam_files_result spam_files_parse(const char *text, size_t len, struct spam_files *out,
                                        struct spam_rule_error *err)
{
    *out = (struct spam_files){.file = str_make(text, 0)};
    bool seen[LIST_COUNT] = {false};
    unsigned line = 1;
    for (size_t pos = 0, next; pos < len; pos = next, line++) {
        struct str l = line_at(text, len, pos, &next), kind, file;
        if (skipped(l))
            continue;
        err->line = line;
        if (!str_cut(l, '\t', &kind, &file)) {
            err->reason = "fewer than 2 TAB-separated columns (<LIST><TAB><file>)";
            return SPAM_FILES_ERROR;
        }
        if (str_find_char(file, '\t') >= 0) {
            err->reason = "more than 2 TAB-separated columns";
            return SPAM_FILES_ERROR;
        }
        size_t k = 0;
        while (k < LIST_COUNT && !str_eq_cstr(kind, list_names[k]))
            k++;
        if (k == LIST_COUNT) {
            err->reason = "column 1: not CUSTOM, UCE, ADVERTISEMENT, HTMLMAIL, VIRUSERROR or ERROR";
            return SPAM_FILES_ERROR;
        }
        if (seen[k]) {
            err->reason = "column 1: list named a second time";
            return SPAM_FILES_ERROR;
        }
        seen[k] = true;
        if ((err->reason = check_file_name(file)) != NULL)
            return SPAM_FILES_ERROR;
        if (k != SPAM_LIST_CUSTOM) {
            static const char *const not_built[] = {
                "",
                "column 1: the UCE list is not built (only CUSTOM is)",
                "column 1: the ADVERTISEMENT list is not built (only CUSTOM is)",
                "column 1: the HTMLMAIL list is not built (only CUSTOM is)",
                "column 1: the VIRUSERROR list is not built (only CUSTOM is)",
                "column 1: the ERROR list is not built (only CUSTOM is)",
            };
            err->reason = not_built[k];
            return SPAM_FILES_NOT_BUILT;
        }
        out->custom = true;
        out->line = line;
        out->file = file;
    }
    err->line = 0;
    err->reason = NULL;
    return SPAM_FILES_OK;
}

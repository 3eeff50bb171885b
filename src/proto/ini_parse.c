/* ini_parse - tokenizer for the text of sekisho.ini (see ini_parse.h). */
#include "proto/ini_parse.h"

#include <string.h>

#define UTF8_BOM     "\xEF\xBB\xBF"
#define UTF8_BOM_LEN 3

#define INI_STRINGIFY_(x) #x
#define INI_STRINGIFY(x)  INI_STRINGIFY_(x)

void ini_parse_init(struct ini_parser *ps, const char *text, size_t len)
{
    ps->pos = text;
    ps->end = text + len;
    ps->line = 1;
    ps->section = STR_NULL;
    ps->section_invalid = false;
    /* Editors on Windows put a BOM in front of UTF-8 files; it is not part
     * of the first key. */
    if (len >= UTF8_BOM_LEN && memcmp(text, UTF8_BOM, UTF8_BOM_LEN) == 0)
        ps->pos += UTF8_BOM_LEN;
}

bool ini_is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static bool is_name(struct str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (!ini_is_name_char(s.ptr[i]))
            return false;
    }
    return true;
}

static bool has_control_char(struct str s)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return true;
    }
    return false;
}

/* next_line - cut the next physical line off the text; *line excludes the
 * LF and the CR of a CRLF. Returns false at the end of the text. */
static bool next_line(struct ini_parser *ps, struct str *line)
{
    if (ps->pos >= ps->end)
        return false;
    size_t rest = (size_t)(ps->end - ps->pos);
    const char *nl = memchr(ps->pos, '\n', rest);
    size_t len = nl ? (size_t)(nl - ps->pos) : rest;
    *line = str_make(ps->pos, len);
    if (line->len > 0 && line->ptr[line->len - 1] == '\r')
        line->len--;
    ps->pos = nl ? nl + 1 : ps->end;
    return true;
}

static enum ini_parse_result fail(struct ini_item *item, enum ini_parse_error err)
{
    item->error = err;
    return err == INI_ERR_LINE_TOO_LONG ? INI_PARSE_TOO_LONG : INI_PARSE_INVALID;
}

static enum ini_parse_result parse_section(struct ini_parser *ps, struct str line,
                                           struct ini_item *item)
{
    struct str inner, after;
    /* line starts with '['; the name ends at the first ']' */
    if (!str_cut(str_make(line.ptr + 1, line.len - 1), ']', &inner, &after))
        goto bad;
    inner = str_trim(inner);
    after = str_trim(after);
    if (!is_name(inner))
        goto bad;
    if (after.len > 0 && after.ptr[0] != '#' && after.ptr[0] != ';')
        goto bad;
    ps->section = inner;
    ps->section_invalid = false;
    item->section = inner;
    item->section_invalid = false;
    return INI_PARSE_SECTION;
bad:
    /* Entries below a broken header belong to no section we could name;
     * mark them so the caller does not file them under the previous one. */
    ps->section = STR_NULL;
    ps->section_invalid = true;
    item->section = STR_NULL;
    item->section_invalid = true;
    return fail(item, INI_ERR_BAD_SECTION);
}

static enum ini_parse_result parse_entry(struct str line, struct ini_item *item)
{
    struct str key, value;
    if (!str_cut(line, '=', &key, &value))
        return fail(item, INI_ERR_NO_EQUALS);
    key = str_trim(key);
    value = str_trim(value);
    if (!is_name(key))
        return fail(item, INI_ERR_BAD_KEY);
    if (value.len > 0 && value.ptr[0] == '"') {
        if (value.len >= 2 && value.ptr[value.len - 1] == '"') {
            value = str_make(value.ptr + 1, value.len - 2);
        } else {
            bool closed = str_find_char(str_make(value.ptr + 1, value.len - 1), '"') >= 0;
            return fail(item, closed ? INI_ERR_TRAILING_TEXT : INI_ERR_UNTERMINATED_QUOTE);
        }
    }
    item->key = key;
    item->value = value;
    return INI_PARSE_ENTRY;
}

enum ini_parse_result ini_parse_next(struct ini_parser *ps, struct ini_item *item)
{
    struct str line;
    while (next_line(ps, &line)) {
        unsigned lineno = ps->line++;
        *item = (struct ini_item){
            .line = lineno, .section = ps->section, .section_invalid = ps->section_invalid};
        if (line.len > INI_LINE_MAX)
            return fail(item, INI_ERR_LINE_TOO_LONG);
        if (has_control_char(line))
            return fail(item, INI_ERR_CONTROL_CHAR);
        line = str_trim(line);
        if (line.len == 0 || line.ptr[0] == '#' || line.ptr[0] == ';')
            continue;
        if (line.ptr[0] == '[')
            return parse_section(ps, line, item);
        return parse_entry(line, item);
    }
    return INI_PARSE_DONE;
}

const char *ini_parse_error_name(enum ini_parse_error err)
{
    switch (err) {
    case INI_ERR_NONE:
        return "no error";
    case INI_ERR_LINE_TOO_LONG:
        return "line too long (max " INI_STRINGIFY(INI_LINE_MAX) " bytes)";
    case INI_ERR_CONTROL_CHAR:
        return "control character in line";
    case INI_ERR_BAD_SECTION:
        return "invalid section header (expected [name], name made of A-Z a-z 0-9 _ . -)";
    case INI_ERR_BAD_KEY:
        return "invalid key name (expected letters, digits, _ . -)";
    case INI_ERR_NO_EQUALS:
        return "expected 'key = value'";
    case INI_ERR_UNTERMINATED_QUOTE:
        return "unterminated quoted value";
    case INI_ERR_TRAILING_TEXT:
        return "text after closing quote";
    }
    return "unknown error";
}

const char *ini_parse_result_name(enum ini_parse_result res)
{
    switch (res) {
    case INI_PARSE_DONE:
        return "done";
    case INI_PARSE_SECTION:
        return "section";
    case INI_PARSE_ENTRY:
        return "entry";
    case INI_PARSE_INVALID:
        return "invalid";
    case INI_PARSE_TOO_LONG:
        return "too long";
    }
    return "unknown";
}

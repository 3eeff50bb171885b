/* ini_parse - tokenizer for the text of sekisho.ini.
 *
 * What it does: walks an in-memory ini text one line at a time and yields
 * section headers ("[name]"), entries ("key = value") and per-line errors,
 * each with its 1-based line number. Accepted syntax:
 *   - "[section]" with optional blanks inside the brackets and an optional
 *     '#' or ';' comment after the closing bracket;
 *   - "key=value"; blanks around '=' are allowed, the value is trimmed of
 *     spaces and tabs, and a value written "..." loses its outer quotes
 *     (there are no escapes: everything between the first and the last
 *     quote is kept, so a quoted value may hold leading/trailing blanks);
 *   - lines whose first non-blank byte is '#' or ';' are comments; there are
 *     no end-of-line comments, because ';' is the separator of pass_riskware
 *     and '#' may occur in URLs and log commands;
 *   - blank lines, LF or CRLF line ends, a UTF-8 byte order mark at the start.
 * Key and section names are made of [A-Za-z0-9_.-]. Control bytes (other
 * than tab and the CR of a CRLF) are an error, and so is a line longer than
 * INI_LINE_MAX bytes. After an error the parser resumes at the next line,
 * so a caller can report every error of a file in one run.
 *
 * What it owns: nothing. Items are views into the caller's text, which must
 * outlive them. What it does not do: no I/O, no allocation, no knowledge of
 * which sections or keys exist (that is core/config).
 */
#ifndef SEKISHO_PROTO_INI_PARSE_H
#define SEKISHO_PROTO_INI_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* Longest accepted line, without its line end. The longest legitimate
 * value is a 2047-byte hosts.allow pattern list (spec §15), so 4096 leaves
 * room for the key, blanks and quotes. */
#define INI_LINE_MAX 4096

enum ini_parse_result {
    INI_PARSE_DONE = 0, /* end of text; nothing in *item */
    INI_PARSE_SECTION,  /* item->section is the new section name */
    INI_PARSE_ENTRY,    /* item->key and item->value (and item->section) */
    INI_PARSE_INVALID,  /* item->error says why; parsing resumes next line */
    INI_PARSE_TOO_LONG, /* line longer than INI_LINE_MAX; skipped */
};

enum ini_parse_error {
    INI_ERR_NONE = 0,
    INI_ERR_LINE_TOO_LONG,
    INI_ERR_CONTROL_CHAR,
    INI_ERR_BAD_SECTION,
    INI_ERR_BAD_KEY,
    INI_ERR_NO_EQUALS,
    INI_ERR_UNTERMINATED_QUOTE,
    INI_ERR_TRAILING_TEXT,
};

struct ini_item {
    unsigned line;              /* 1-based line number of the item */
    struct str section;         /* current section; ptr NULL when none */
    bool section_invalid;       /* entry follows a header that was invalid */
    struct str key;             /* INI_PARSE_ENTRY only */
    struct str value;           /* INI_PARSE_ENTRY only; trimmed, unquoted */
    enum ini_parse_error error; /* INI_PARSE_INVALID / INI_PARSE_TOO_LONG */
};

struct ini_parser {
    const char *pos;
    const char *end;
    unsigned line;      /* number of the line that starts at pos */
    struct str section; /* ptr NULL before the first valid header */
    bool section_invalid;
};

/* ini_parse_init - start parsing text[0..len). The text need not be
 * NUL-terminated and may contain any bytes. */
void ini_parse_init(struct ini_parser *ps, const char *text, size_t len);

/* ini_parse_next - yield the next section header, entry or error.
 * Blank and comment lines are skipped. Returns INI_PARSE_DONE at the end of
 * the text (and on every later call). *item is overwritten on every call
 * except DONE; its views point into the text. */
enum ini_parse_result ini_parse_next(struct ini_parser *ps, struct ini_item *item);

/* ini_parse_error_name - human-readable reason, e.g. "line too long (max
 * 4096 bytes)", for "file:line: reason" messages. */
const char *ini_parse_error_name(enum ini_parse_error err);

/* ini_parse_result_name - "done", "section", ... for logs and tests. */
const char *ini_parse_result_name(enum ini_parse_result res);

/* ini_is_name_char - true for the bytes allowed in key and section names. */
bool ini_is_name_char(char c);

#endif

/* fuzz_spam_rules - libFuzzer target for proto/spam_rule_parse.
 *
 * The input is read twice: as a custom rule file and as a files.txt.
 * Rules: each one is numbered 1..SPAM_RULES_MAX in order, on a line after
 * the previous rule's and within the input's lines; its columns are in
 * range (a known judgment and field, only known compare bits, no
 * HEADMATCH/TAILMATCH with HTMLBODY, no AND with AND_SAMEPART, no AND on
 * the first rule, a header name of 1..SPAM_RULE_HEADER_MAX bytes exactly
 * for header rules, no strings exactly for ALWAYS); its strings are
 * 1..SPAM_RULE_STRINGS_MAX, each 1..SPAM_RULE_STRING_MAX bytes, back to
 * back in the rule's buffer and together no longer than the line (decoding
 * never lengthens); its detection name fits SPAM_RULE_DETECTION_NAME_MAX.
 * The iterator ends in END or an ERROR with a static reason on a line of
 * the input, repeated by the next call. files.txt: OK names a bare file
 * inside the input on one of its lines, the other results a line and a
 * reason. Reading past the input is ASan's to catch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/spam_rule_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ALL_CMP                                                                                    \
    (SPAM_CMP_IGNORECASE | SPAM_CMP_HEADMATCH | SPAM_CMP_TAILMATCH | SPAM_CMP_NOT | SPAM_CMP_AND | \
     SPAM_CMP_AND_SAMEPART)

static struct spam_rule rule;

static void check_rule(const struct spam_rule *r, unsigned count, unsigned lines)
{
    if (r->number != count || r->line == 0 || r->line > lines)
        abort();
    if ((unsigned)r->judgment > SPAM_RULE_NONE || (unsigned)r->field > SPAM_FIELD_ALWAYS ||
        (r->flags & ~ALL_CMP) != 0)
        abort();
    if (r->field == SPAM_FIELD_HTMLBODY && (r->flags & (SPAM_CMP_HEADMATCH | SPAM_CMP_TAILMATCH)))
        abort();
    if ((r->flags & SPAM_CMP_AND) && (r->flags & SPAM_CMP_AND_SAMEPART))
        abort();
    if (count == 1 && (r->flags & (SPAM_CMP_AND | SPAM_CMP_AND_SAMEPART)))
        abort();
    if ((r->field == SPAM_FIELD_HEADER) != (r->header_len > 0) ||
        r->header_len > SPAM_RULE_HEADER_MAX || strlen(r->header) != r->header_len)
        abort();
    if ((r->field == SPAM_FIELD_ALWAYS) != (r->nstrings == 0) ||
        r->nstrings > SPAM_RULE_STRINGS_MAX)
        abort();
    size_t end = 0, written = 0;
    for (unsigned i = 0; i < r->nstrings; i++) {
        struct str s = spam_rule_string(r, i);
        if (r->off[i] != end || s.len == 0 || s.len > SPAM_RULE_STRING_MAX ||
            s.ptr != r->buf + r->off[i])
            abort();
        end += s.len;
        written += s.len + 1; /* at least its bytes and its ',' or the line's end */
    }
    if (written > SPAM_RULE_LINE_MAX + 1)
        abort();
    char name[SPAM_RULE_DETECTION_NAME_MAX + 1];
    size_t n = spam_rule_detection_name(r, STR_NULL, name, sizeof(name));
    if (n == 0 || n > SPAM_RULE_DETECTION_NAME_MAX || strlen(name) != n ||
        strncmp(name, "SEKISHO/SPAM_LIST/CUSTOM/", 25) != 0)
        abort();
}

static void check_files(const char *text, size_t size, unsigned lines)
{
    struct spam_files f;
    struct spam_rule_error e = {0};
    enum spam_files_result res = spam_files_parse(text, size, &f, &e);
    if (res == SPAM_FILES_OK) {
        if (!f.custom)
            return;
        if (f.line == 0 || f.line > lines || f.file.len == 0 || f.file.len > SPAM_FILES_NAME_MAX ||
            f.file.ptr < text || f.file.ptr + f.file.len > text + size ||
            memchr(f.file.ptr, '/', f.file.len) || memchr(f.file.ptr, '\0', f.file.len))
            abort();
        return;
    }
    if ((res != SPAM_FILES_ERROR && res != SPAM_FILES_NOT_BUILT) || !e.reason || e.line == 0 ||
        e.line > lines)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    unsigned lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    struct spam_rule_parser p;
    struct spam_rule_error e = {0};
    enum spam_rule_result res;
    unsigned count = 0, last = 0;
    spam_rule_parser_init(&p, text, size);
    while ((res = spam_rule_next(&p, &rule, &e)) == SPAM_RULE_RULE) {
        if (++count > SPAM_RULES_MAX || rule.line <= last)
            abort();
        last = rule.line;
        check_rule(&rule, count, lines);
    }
    struct spam_rule_error e2 = {0};
    if (res == SPAM_RULE_ERROR) {
        if (!e.reason || e.line == 0 || e.line > lines ||
            spam_rule_next(&p, &rule, &e2) != SPAM_RULE_ERROR || e2.line != e.line ||
            e2.reason != e.reason)
            abort();
    } else if (res != SPAM_RULE_END || spam_rule_next(&p, &rule, &e2) != SPAM_RULE_END) {
        abort();
    }
    check_files(text, size, lines);
    return 0;
}

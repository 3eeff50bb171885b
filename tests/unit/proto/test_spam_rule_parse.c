/* Unit tests for proto/spam_rule_parse: conf/spam/files.txt and the custom
 * rule file (SPAM-4, SPAM-5, SPAM-6, C-14, C-15, G-09, G-34). Every
 * column's good and bad values, every escape, the bounds at their edges
 * (100 rules, 4095-byte lines, 64 strings, 1023-byte strings), line
 * numbering across comments, blank lines and CRLF, the guide's own
 * examples, the detection name, and the files.txt cases. Each error is
 * checked for the line it must name and the column its reason names,
 * since the loader prints exactly "custom.txt:<line>: <reason>". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/spam_rule_parse.h"

static struct spam_rule rule; /* 4 KB: not on the stack of every helper */

/* next_rule - the next rule of p, which must be one. */
static const struct spam_rule *next_rule(struct spam_rule_parser *p)
{
    struct spam_rule_error e = {0};
    enum spam_rule_result res = spam_rule_next(p, &rule, &e);
    if (res != SPAM_RULE_RULE)
        fail_msg("wanted a rule, got %d (line %u: %s)", res, e.line, e.reason ? e.reason : "");
    return &rule;
}

static void expect_end(struct spam_rule_parser *p)
{
    struct spam_rule_error e = {0};
    assert_int_equal(spam_rule_next(p, &rule, &e), SPAM_RULE_END);
    assert_int_equal(spam_rule_next(p, &rule, &e), SPAM_RULE_END);
}

/* one_rule - text holds exactly one rule, returned. */
static const struct spam_rule *one_rule(const char *text)
{
    static struct spam_rule_parser p;
    spam_rule_parser_init(&p, text, strlen(text));
    next_rule(&p);
    expect_end(&p);
    return &rule;
}

/* expect_str_at - string i of r is want (wlen bytes, NULs allowed). */
static void expect_str_at(const struct spam_rule *r, unsigned i, const char *want, size_t wlen)
{
    assert_true(i < r->nstrings);
    struct str s = spam_rule_string(r, i);
    if (s.len != wlen || memcmp(s.ptr, want, wlen) != 0)
        fail_msg("string %u: got %zu bytes '%.*s', wanted %zu '%.*s'", i, s.len, (int)s.len, s.ptr,
                 wlen, (int)wlen, want);
}
#define EXPECT_STRING(r, i, lit) expect_str_at((r), (i), (lit), sizeof(lit) - 1)

/* expect_error - text is refused at line with a reason containing word;
 * the error repeats on the next call. */
static void expect_error(const char *text, size_t len, unsigned line, const char *word)
{
    struct spam_rule_parser p;
    struct spam_rule_error e = {0};
    enum spam_rule_result res;
    spam_rule_parser_init(&p, text, len);
    while ((res = spam_rule_next(&p, &rule, &e)) == SPAM_RULE_RULE)
        ;
    if (res != SPAM_RULE_ERROR)
        fail_msg("no error for '%.*s'", (int)(len > 60 ? 60 : len), text);
    if (e.line != line || !strstr(e.reason, word))
        fail_msg("'%.*s': wanted line %u \"%s\", got line %u \"%s\"", (int)(len > 60 ? 60 : len),
                 text, line, word, e.line, e.reason);
    struct spam_rule_error again = {0};
    assert_int_equal(spam_rule_next(&p, &rule, &again), SPAM_RULE_ERROR);
    assert_int_equal(again.line, line);
    assert_ptr_equal(again.reason, e.reason);
}

static void expect_error_cstr(const char *text, unsigned line, const char *word)
{
    expect_error(text, strlen(text), line, word);
}

static void test_guide_examples(void **state)
{
    (void)state;
    /* Guide 003:2564 / 003:2587: "specify the following to search for the
     * text "完全無料" in Shift-JIS format: ¥x8a¥xae¥x91¥x53¥x96¥xb3¥x97¥xbf",
     * and "Insert "%x" in front of each hexadecimal value." Both spellings
     * (the yen sign is how the guide renders '\') and the canonical %x give
     * the same eight bytes (C-14). */
    static const char sjis[] = "\x8a\xae\x91\x53\x96\xb3\x97\xbf";
    const struct spam_rule *r =
        one_rule("BLACK\tSubject\t\t\xc2\xa5x8a\xc2\xa5xae\xc2\xa5x91\xc2\xa5x53\xc2\xa5x96\xc2"
                 "\xa5xb3\xc2\xa5x97\xc2\xa5xbf\n");
    EXPECT_STRING(r, 0, sjis);
    r = one_rule("BLACK\tSubject\t\t\\x8a\\xae\\x91\\x53\\x96\\xb3\\x97\\xbf\n");
    EXPECT_STRING(r, 0, sjis);
    r = one_rule("BLACK\tSubject\t\t%x8a%xae%x91%x53%x96%xb3%x97%xbf\n");
    EXPECT_STRING(r, 0, sjis);
    assert_int_equal(r->nstrings, 1);

    /* Guide 003:2555 (Caution): "do not use forward or backward matching"
     * for addresses; the KB's advice, a plain substring on the sender's
     * domain, as a white list (003:2517: "the rules can be used as a black
     * list and white list"). */
    r = one_rule("WHITE\tFrom\t\t@non_spam.com\n");
    assert_int_equal(r->judgment, SPAM_RULE_WHITE);
    assert_int_equal(r->field, SPAM_FIELD_HEADER);
    assert_string_equal(r->header, "From");
    assert_int_equal(r->flags, 0);
    EXPECT_STRING(r, 0, "@non_spam.com");

    /* Guide 003:2627: "AND with previous rule in the same MIME part ... a
     * rule for both the Content-Type and file name of an attached file",
     * "the previous rule is typically set to "no action"". */
    static const char chain[] = "NONE\tContent-Type\tIGNORECASE\tapplication/x-msdownload\n"
                                "BLACK\tFILENAME\tIGNORECASE,TAILMATCH,AND_SAMEPART\t.exe,.scr\n";
    struct spam_rule_parser p;
    spam_rule_parser_init(&p, chain, sizeof(chain) - 1);
    r = next_rule(&p);
    assert_int_equal(r->judgment, SPAM_RULE_NONE);
    assert_int_equal(r->line, 1);
    r = next_rule(&p);
    assert_int_equal(r->judgment, SPAM_RULE_BLACK);
    assert_int_equal(r->field, SPAM_FIELD_FILENAME);
    assert_int_equal(r->flags, SPAM_CMP_IGNORECASE | SPAM_CMP_TAILMATCH | SPAM_CMP_AND_SAMEPART);
    assert_int_equal(r->nstrings, 2);
    EXPECT_STRING(r, 0, ".exe");
    EXPECT_STRING(r, 1, ".scr");
    assert_int_equal(r->line, 2);
    assert_int_equal(r->number, 2);
    expect_end(&p);

    /* G-09: "IGNORECASE,HEADMATCH"; an empty compare column. */
    r = one_rule("BLACK\tSubject\tIGNORECASE,HEADMATCH\t[SPAM]\n");
    assert_int_equal(r->flags, SPAM_CMP_IGNORECASE | SPAM_CMP_HEADMATCH);
}

static void test_columns_good(void **state)
{
    (void)state;
    static const struct {
        const char *kw;
        enum spam_rule_field f;
    } fields[] = {
        {"FILENAME", SPAM_FIELD_FILENAME}, {"FILESIZE", SPAM_FIELD_FILESIZE},
        {"TEXTBODY", SPAM_FIELD_TEXTBODY}, {"HTMLBODY", SPAM_FIELD_HTMLBODY},
        {"URLHOST", SPAM_FIELD_URLHOST},   {"RELAYIP", SPAM_FIELD_RELAYIP},
    };
    char line[128];
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        snprintf(line, sizeof(line), "BLACK\t%s\t\t123\n", fields[i].kw);
        const struct spam_rule *r = one_rule(line);
        assert_int_equal(r->field, fields[i].f);
        assert_string_equal(spam_rule_field_name(r->field), fields[i].kw);
        assert_int_equal(r->header_len, 0);
        assert_string_equal(r->header, "");
    }
    const struct spam_rule *r = one_rule("WHITE\tALWAYS\t\t\n");
    assert_int_equal(r->field, SPAM_FIELD_ALWAYS);
    assert_int_equal(r->nstrings, 0);
    assert_int_equal(spam_rule_string(r, 0).len, 0);

    /* Judgments. */
    assert_int_equal(one_rule("BLACK\tX\t\ta")->judgment, SPAM_RULE_BLACK);
    assert_int_equal(one_rule("WHITE\tX\t\ta")->judgment, SPAM_RULE_WHITE);
    assert_string_equal(spam_rule_judgment_name(SPAM_RULE_NONE), "NONE");

    /* Header names: 29 characters of ftext, kept as written. */
    r = one_rule("BLACK\tX-Very-Long-Header-Name-29chr\t\ta\n");
    assert_int_equal(r->header_len, 29);
    assert_string_equal(r->header, "X-Very-Long-Header-Name-29chr");
    r = one_rule("BLACK\tx-!#$%&'*+.^_`|~09\t\ta\n");
    assert_string_equal(r->header, "x-!#$%&'*+.^_`|~09");

    /* Every compare keyword, alone and all compatible ones at once. */
    static const struct {
        const char *kw;
        unsigned flag;
    } cmps[] = {
        {"IGNORECASE", SPAM_CMP_IGNORECASE},
        {"HEADMATCH", SPAM_CMP_HEADMATCH},
        {"TAILMATCH", SPAM_CMP_TAILMATCH},
        {"NOT", SPAM_CMP_NOT},
        {"AND", SPAM_CMP_AND},
        {"AND_SAMEPART", SPAM_CMP_AND_SAMEPART},
    };
    for (size_t i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++) {
        snprintf(line, sizeof(line), "BLACK\tX\t\ta\nBLACK\tSubject\t%s\tb\n", cmps[i].kw);
        struct spam_rule_parser p;
        spam_rule_parser_init(&p, line, strlen(line));
        next_rule(&p);
        assert_int_equal(next_rule(&p)->flags, cmps[i].flag);
        expect_end(&p);
    }
    /* HEADMATCH with TAILMATCH: both conditions, accepted (header comment). */
    r = one_rule("BLACK\tTEXTBODY\tNOT,TAILMATCH,HEADMATCH,IGNORECASE\tx");
    assert_int_equal(r->flags,
                     SPAM_CMP_NOT | SPAM_CMP_TAILMATCH | SPAM_CMP_HEADMATCH | SPAM_CMP_IGNORECASE);
    /* HTMLBODY takes IGNORECASE and NOT; ALWAYS takes AND. */
    assert_int_equal(one_rule("BLACK\tHTMLBODY\tIGNORECASE,NOT\tx")->flags,
                     SPAM_CMP_IGNORECASE | SPAM_CMP_NOT);
    struct spam_rule_parser p;
    static const char always_and[] = "NONE\tRELAYIP\t\t192.0.2.\nBLACK\tALWAYS\tAND\t\n";
    spam_rule_parser_init(&p, always_and, sizeof(always_and) - 1);
    next_rule(&p);
    assert_int_equal(next_rule(&p)->flags, SPAM_CMP_AND);
    expect_end(&p);

    /* Search strings: blanks and UTF-8 as they are, NONE chained by AND. */
    r = one_rule("BLACK\tSubject\t\t 無料 ,buy now\n");
    assert_int_equal(r->nstrings, 2);
    EXPECT_STRING(r, 0, " 無料 ");
    EXPECT_STRING(r, 1, "buy now");
}

static void test_escapes(void **state)
{
    (void)state;
    const struct spam_rule *r = one_rule("BLACK\tSubject\t\t%x41%x6a%x6A%xFf,%%,100%%,a%x2cb,"
                                         "%x00%x09%x0a,\\x2C\\x2c,\\y,a\\\n");
    assert_int_equal(r->nstrings, 8);
    EXPECT_STRING(r, 0, "Ajj\xff");
    EXPECT_STRING(r, 1, "%");
    EXPECT_STRING(r, 2, "100%");
    EXPECT_STRING(r, 3, "a,b"); /* G-09: a literal comma */
    expect_str_at(r, 4, "\0\t\n", 3);
    EXPECT_STRING(r, 5, ",,");
    EXPECT_STRING(r, 6, "\\y"); /* a backslash not before 'x' is itself */
    EXPECT_STRING(r, 7, "a\\");
}

static void test_escapes_literal_backslash(void **state)
{
    (void)state;
    /* A backslash not followed by 'x' is itself; so is a yen sign. */
    const struct spam_rule *r = one_rule("BLACK\tSubject\t\tC:\\dir,\xc2\xa5"
                                         "100,a\\\n");
    assert_int_equal(r->nstrings, 3);
    EXPECT_STRING(r, 0, "C:\\dir");
    EXPECT_STRING(r, 1,
                  "\xc2\xa5"
                  "100");
    EXPECT_STRING(r, 2, "a\\");
    /* %%x41 is '%' then "x41", not an escape. */
    EXPECT_STRING(one_rule("BLACK\tSubject\t\t%%x41"), 0, "%x41");
    /* The string stays after the rule is copied (offsets, not pointers). */
    struct spam_rule copy = *one_rule("BLACK\tSubject\t\tone,two");
    memset(&rule, 0, sizeof(rule));
    EXPECT_STRING(&copy, 1, "two");
}

static void test_escape_errors(void **state)
{
    (void)state;
    expect_error_cstr("BLACK\tSubject\t\t100%\n", 1, "column 4: '%'");
    expect_error_cstr("BLACK\tSubject\t\t%x4\n", 1, "column 4: '%'");
    expect_error_cstr("BLACK\tSubject\t\t%x4g\n", 1, "column 4: '%'");
    expect_error_cstr("BLACK\tSubject\t\t%X41\n", 1, "column 4: '%'");
    expect_error_cstr("BLACK\tSubject\t\t%41\n", 1, "column 4: '%'");
    expect_error_cstr("BLACK\tSubject\t\ta\\x4\n", 1, "column 4: '\\x'");
    expect_error_cstr("BLACK\tSubject\t\t\\xzz\n", 1, "column 4: '\\x'");
    expect_error_cstr("BLACK\tSubject\t\t\xc2\xa5xq1\n", 1, "column 4: '\\x'");
}

static void test_column_errors(void **state)
{
    (void)state;
    /* Column count. */
    expect_error_cstr("BLACK\tSubject\tx\n", 1, "fewer than 4");
    expect_error_cstr("BLACK\n", 1, "fewer than 4");
    expect_error_cstr("BLACK\tSubject\t\ta\tb\n", 1, "more than 4");
    expect_error_cstr("BLACK Subject  a\n", 1, "fewer than 4");
    /* Column 1. */
    expect_error_cstr("black\tSubject\t\ta\n", 1, "column 1:");
    expect_error_cstr("SPAM\tSubject\t\ta\n", 1, "column 1:");
    expect_error_cstr("\tSubject\t\ta\n", 1, "column 1:");
    expect_error_cstr(" BLACK\tSubject\t\ta\n", 1, "column 1:");
    /* Column 2. */
    expect_error_cstr("BLACK\t\t\ta\n", 1, "column 2: empty");
    expect_error_cstr("BLACK\tX-Very-Long-Header-Name-30char\t\ta\n", 1, "column 2: header");
    expect_error_cstr("BLACK\tSub:ject\t\ta\n", 1, "column 2: not a field");
    expect_error_cstr("BLACK\tSub ject\t\ta\n", 1, "column 2: not a field");
    expect_error_cstr("BLACK\tSubj\xc3\xa9\t\ta\n", 1, "column 2: not a field");
    expect_error_cstr("BLACK\tTextBody\t\ta\n", 1, "column 2: field keyword not in upper");
    expect_error_cstr("BLACK\talways\t\t\n", 1, "column 2: field keyword not in upper");
    /* Column 3. */
    expect_error_cstr("BLACK\tSubject\tignorecase\ta\n", 1, "column 3: not IGNORECASE");
    expect_error_cstr("BLACK\tSubject\tEXACT\ta\n", 1, "column 3: not IGNORECASE");
    expect_error_cstr("BLACK\tSubject\tNOT,\ta\n", 1, "column 3: empty");
    expect_error_cstr("BLACK\tSubject\t,NOT\ta\n", 1, "column 3: empty");
    expect_error_cstr("BLACK\tSubject\tNOT,,IGNORECASE\ta\n", 1, "column 3: empty");
    expect_error_cstr("BLACK\tSubject\tNOT, IGNORECASE\ta\n", 1, "column 3: not IGNORECASE");
    expect_error_cstr("BLACK\tSubject\tNOT,NOT\ta\n", 1, "column 3: compare keyword given twice");
    expect_error_cstr("BLACK\tHTMLBODY\tHEADMATCH\ta\n", 1, "column 3: HEADMATCH or TAILMATCH");
    expect_error_cstr("BLACK\tHTMLBODY\tIGNORECASE,TAILMATCH\ta\n", 1,
                      "column 3: HEADMATCH or TAILMATCH");
    expect_error_cstr("NONE\tX\t\ta\nBLACK\tSubject\tAND,AND_SAMEPART\ta\n", 2,
                      "column 3: AND with AND_SAMEPART");
    expect_error_cstr("BLACK\tSubject\tAND\ta\n", 1, "column 3: AND or AND_SAMEPART on the first");
    expect_error_cstr("# c\n\nBLACK\tSubject\tAND_SAMEPART\ta\n", 3,
                      "column 3: AND or AND_SAMEPART on the first");
    expect_error_cstr("BLACK\tALWAYS\tNOT\t\n", 1, "column 3: ALWAYS takes only");
    expect_error_cstr("BLACK\tALWAYS\tIGNORECASE\t\n", 1, "column 3: ALWAYS takes only");
    /* Column 4. */
    expect_error_cstr("BLACK\tSubject\t\t\n", 1, "column 4: no search string");
    expect_error_cstr("BLACK\tSubject\t\ta,\n", 1, "column 4: empty search string");
    expect_error_cstr("BLACK\tSubject\t\t,a\n", 1, "column 4: empty search string");
    expect_error_cstr("BLACK\tSubject\t\ta,,b\n", 1, "column 4: empty search string");
    expect_error_cstr("BLACK\tALWAYS\t\tx\n", 1, "column 4: ALWAYS takes no");
    expect_error_cstr("BLACK\tFILESIZE\t\t10KB\n", 1, "column 4: FILESIZE");
    expect_error_cstr("BLACK\tFILESIZE\t\t100,%x31%x32x\n", 1, "column 4: FILESIZE");
    /* Control bytes in a line. */
    expect_error("BLACK\tSubject\t\ta\0b\n", sizeof("BLACK\tSubject\t\ta\0b\n") - 1, 1,
                 "control byte");
    expect_error_cstr("BLACK\tSubject\t\ta\rb\n", 1, "control byte");
    expect_error_cstr("BLACK\tSubject\t\ta\r\r\n", 1, "control byte");
    /* NONE that no AND rule follows: named at the NONE's line. */
    expect_error_cstr("NONE\tX\t\ta\n", 1, "NONE rule not followed");
    expect_error_cstr("BLACK\tX\t\ta\nNONE\tX\t\ta\n\n# end\n", 2, "NONE rule not followed");
    expect_error_cstr("NONE\tX\t\ta\n#\nBLACK\tX\t\ta\n", 1, "NONE rule not followed");
    /* The error stops the iteration at the first bad line. */
    expect_error_cstr("BLACK\tX\t\ta\nBAD\nBLACK\tX\t\t%\n", 2, "fewer than 4");
}

static void test_numbering(void **state)
{
    (void)state;
    /* G-09: the rule number is the line number counting every line;
     * comments and blank lines (also blanks only) count; CRLF and LF mixed;
     * the last line needs no line end; AND reads the previous rule across
     * a comment. */
    static const char text[] = "# custom rules\r\n"
                               "\r\n"
                               "NONE\tFrom\t\texample.com\r\n"
                               "  \t \n"
                               "#BLACK\tSubject\t\tcommented out\n"
                               "BLACK\tSubject\tAND\tsale\r\n"
                               "\n"
                               "WHITE\tRELAYIP\tHEADMATCH\t192.0.2.";
    struct spam_rule_parser p;
    spam_rule_parser_init(&p, text, sizeof(text) - 1);
    const struct spam_rule *r = next_rule(&p);
    assert_int_equal(r->line, 3);
    assert_int_equal(r->number, 1);
    EXPECT_STRING(r, 0, "example.com");
    r = next_rule(&p);
    assert_int_equal(r->line, 6);
    assert_int_equal(r->number, 2);
    EXPECT_STRING(r, 0, "sale");
    r = next_rule(&p);
    assert_int_equal(r->line, 8);
    assert_int_equal(r->number, 3);
    assert_int_equal(r->field, SPAM_FIELD_RELAYIP);
    EXPECT_STRING(r, 0, "192.0.2.");
    expect_end(&p);

    /* Empty file and comments only: no rules. */
    spam_rule_parser_init(&p, "", 0);
    expect_end(&p);
    spam_rule_parser_init(&p, "#\n\n", 3);
    expect_end(&p);
    /* An error after blank lines names its own line. */
    expect_error_cstr("\n\r\n#\n\nWHITE\tX\t\t\n", 5, "column 4");
}

/* rules_text - n rules, one per line, into buf; its length. */
static size_t rules_text(char *buf, size_t cap, unsigned n)
{
    size_t len = 0;
    for (unsigned i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "BLACK\tSubject\t\tr%u\n", i + 1);
    return len;
}

static void test_rules_max(void **state)
{
    (void)state;
    static char text[100 * 32 + 64];
    size_t len = rules_text(text, sizeof(text), SPAM_RULES_MAX);
    struct spam_rule_parser p;
    spam_rule_parser_init(&p, text, len);
    for (unsigned i = 1; i <= SPAM_RULES_MAX; i++) {
        const struct spam_rule *r = next_rule(&p);
        assert_int_equal(r->line, i);
        assert_int_equal(r->number, i);
    }
    expect_end(&p);
    /* Comment lines do not count as rules: 100 rules on lines 2..101 ok. */
    static char shifted[sizeof(text) + 8];
    memcpy(shifted, "#\n", 2);
    memcpy(shifted + 2, text, len);
    spam_rule_parser_init(&p, shifted, len + 2);
    for (unsigned i = 1; i <= SPAM_RULES_MAX; i++)
        assert_int_equal(next_rule(&p)->line, i + 1);
    expect_end(&p);
    /* 101 rules: refused at the 101st rule's line. */
    len = rules_text(text, sizeof(text), SPAM_RULES_MAX + 1);
    expect_error(text, len, 101, "more than 100 rules");
}

static void test_line_and_string_bounds(void **state)
{
    (void)state;
    static char text[SPAM_RULE_LINE_MAX + 64];
    /* A line of exactly 4095 bytes (CRLF excluded): three 1023-byte strings
     * and a fourth filling the rest ("BLACK\tTEXTBODY\t\t" is 16 bytes). */
    size_t len = 0;
    memcpy(text, "BLACK\tTEXTBODY\t\t", 16);
    len = 16;
    for (int s = 0; s < 3; s++) {
        memset(text + len, 'a' + s, SPAM_RULE_STRING_MAX);
        len += SPAM_RULE_STRING_MAX;
        text[len++] = ',';
    }
    size_t fill = SPAM_RULE_LINE_MAX - len;
    memset(text + len, 'z', fill);
    len += fill;
    assert_int_equal(len, SPAM_RULE_LINE_MAX);
    memcpy(text + len, "\r\n", 2);
    struct spam_rule_parser p;
    spam_rule_parser_init(&p, text, len + 2);
    const struct spam_rule *r = next_rule(&p);
    assert_int_equal(r->nstrings, 4);
    for (unsigned s = 0; s < 3; s++)
        assert_int_equal(spam_rule_string(r, s).len, SPAM_RULE_STRING_MAX);
    assert_int_equal(spam_rule_string(r, 3).len, fill);
    assert_int_equal((unsigned char)spam_rule_string(r, 2).ptr[0], 'c');
    expect_end(&p);
    /* One byte more: refused as a long line. */
    text[len] = 'z';
    memcpy(text + len + 1, "\n", 1);
    expect_error(text, len + 2, 1, "line longer than 4095");
    /* The long line is named by its line number after a good line. */
    static char two[sizeof(text) + 32];
    memcpy(two, "WHITE\tALWAYS\t\t\n", 15);
    memcpy(two + 15, text, len + 1);
    expect_error(two, len + 16, 2, "line longer than 4095");

    /* A string of 1024 bytes: refused; one of 1023 decoded from 700
     * "%x7e" escapes and 323 plain bytes: accepted (the bound is on the
     * decoded length, not the 3123 bytes written). */
    len = 16;
    memset(text + len, 'q', SPAM_RULE_STRING_MAX + 1);
    len += SPAM_RULE_STRING_MAX + 1;
    expect_error(text, len, 1, "column 4: search string longer than 1023");
    len = 16;
    for (unsigned i = 0; i < 700; i++, len += 4)
        memcpy(text + len, "%x7e", 4);
    memset(text + len, 'q', SPAM_RULE_STRING_MAX - 700);
    len += SPAM_RULE_STRING_MAX - 700;
    spam_rule_parser_init(&p, text, len);
    r = next_rule(&p);
    assert_int_equal(r->nstrings, 1);
    assert_int_equal(spam_rule_string(r, 0).len, SPAM_RULE_STRING_MAX);
    assert_int_equal(spam_rule_string(r, 0).ptr[699], '~');
    assert_int_equal(spam_rule_string(r, 0).ptr[700], 'q');
    /* And 1024 decoded that way: refused. */
    text[len] = 'q';
    expect_error(text, len + 1, 1, "column 4: search string longer than 1023");

    /* 64 strings: accepted; 65: refused. */
    len = 16;
    for (unsigned i = 0; i < SPAM_RULE_STRINGS_MAX; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%u", i ? "," : "", i);
    spam_rule_parser_init(&p, text, len);
    r = next_rule(&p);
    assert_int_equal(r->nstrings, SPAM_RULE_STRINGS_MAX);
    EXPECT_STRING(r, 63, "63");
    EXPECT_STRING(r, 0, "0");
    memcpy(text + len, ",x", 2);
    expect_error(text, len + 2, 1, "column 4: more than 64");
}

static void test_detection_name(void **state)
{
    (void)state;
    char out[SPAM_RULE_DETECTION_NAME_MAX + 1];
    static const char text[] = "\n\nBLACK\tx-spam-flag\tIGNORECASE\tyes\n"
                               "BLACK\tTEXTBODY\t\tviagra\n";
    struct spam_rule_parser p;
    spam_rule_parser_init(&p, text, sizeof(text) - 1);
    struct spam_rule hdr = *next_rule(&p);
    /* G-09: the header field name as written in the mail. */
    assert_int_equal(spam_rule_detection_name(&hdr, STR_LIT("X-Spam-Flag"), out, sizeof(out)),
                     strlen("SEKISHO/SPAM_LIST/CUSTOM/3/X-Spam-Flag"));
    assert_string_equal(out, "SEKISHO/SPAM_LIST/CUSTOM/3/X-Spam-Flag");
    /* Nothing or no field name found: the rule's spelling. */
    spam_rule_detection_name(&hdr, STR_NULL, out, sizeof(out));
    assert_string_equal(out, "SEKISHO/SPAM_LIST/CUSTOM/3/x-spam-flag");
    spam_rule_detection_name(&hdr, STR_LIT("X-Spam\nFlag"), out, sizeof(out));
    assert_string_equal(out, "SEKISHO/SPAM_LIST/CUSTOM/3/x-spam-flag");
    /* Other fields: the keyword, found ignored. */
    const struct spam_rule *r = next_rule(&p);
    spam_rule_detection_name(r, STR_LIT("Subject"), out, sizeof(out));
    assert_string_equal(out, "SEKISHO/SPAM_LIST/CUSTOM/4/TEXTBODY");
    /* Too small: 0 and an empty string; exactly enough: written. */
    size_t need = strlen("SEKISHO/SPAM_LIST/CUSTOM/4/TEXTBODY");
    assert_int_equal(spam_rule_detection_name(r, STR_NULL, out, need), 0);
    assert_string_equal(out, "");
    assert_int_equal(spam_rule_detection_name(r, STR_NULL, out, need + 1), need);
    /* The largest: a 10-digit line and a 29-byte name fit the #define. */
    struct spam_rule big = hdr;
    big.line = 4294967295u;
    assert_int_equal(
        spam_rule_detection_name(&big, STR_LIT("X-Very-Long-Header-Name-29chr"), out, sizeof(out)),
        SPAM_RULE_DETECTION_NAME_MAX);
}

/* expect_files - files.txt text gives res, with line and reason word. */
static void expect_files(const char *text, enum spam_files_result want, unsigned line,
                         const char *word)
{
    struct spam_files f;
    struct spam_rule_error e = {0};
    enum spam_files_result res = spam_files_parse(text, strlen(text), &f, &e);
    if (res != want || e.line != line || (word && (!e.reason || !strstr(e.reason, word))))
        fail_msg("'%s': wanted %d line %u \"%s\", got %d line %u \"%s\"", text, want, line,
                 word ? word : "", res, e.line, e.reason ? e.reason : "");
}

static void test_files_txt(void **state)
{
    (void)state;
    struct spam_files f;
    struct spam_rule_error e;
    /* Guide 003:2509: the line "CUSTOM <tab>custom.txt". */
    static const char guide[] = "CUSTOM\tcustom.txt\n";
    assert_int_equal(spam_files_parse(guide, sizeof(guide) - 1, &f, &e), SPAM_FILES_OK);
    assert_true(f.custom);
    assert_int_equal(f.line, 1);
    assert_true(str_eq_cstr(f.file, "custom.txt"));
    /* Comments, blank lines, CRLF, another bare name, no final newline. */
    static const char other[] = "# spam lists\r\n\r\nCUSTOM\tmy-rules_2.txt";
    assert_int_equal(spam_files_parse(other, sizeof(other) - 1, &f, &e), SPAM_FILES_OK);
    assert_int_equal(f.line, 3);
    assert_true(str_eq_cstr(f.file, "my-rules_2.txt"));
    /* No CUSTOM line: custom rules off. */
    assert_int_equal(spam_files_parse("", 0, &f, &e), SPAM_FILES_OK);
    assert_false(f.custom);
    assert_int_equal(spam_files_parse("#CUSTOM\tcustom.txt\n", 19, &f, &e), SPAM_FILES_OK);
    assert_false(f.custom);

    /* The lists of SPAM-6 / G-34: known, not built, named with their line. */
    expect_files("CUSTOM\tcustom.txt\nUCE\tuce.txt\n", SPAM_FILES_NOT_BUILT, 2, "UCE list");
    expect_files("ADVERTISEMENT\tad.txt\n", SPAM_FILES_NOT_BUILT, 1, "ADVERTISEMENT list");
    expect_files("\nHTMLMAIL\th.txt\n", SPAM_FILES_NOT_BUILT, 2, "HTMLMAIL list");
    expect_files("VIRUSERROR\tv.txt\n", SPAM_FILES_NOT_BUILT, 1, "VIRUSERROR list");
    expect_files("ERROR\te.txt\n", SPAM_FILES_NOT_BUILT, 1, "ERROR list");
    expect_files("ERROR\te.txt\nCUSTOM\t../x\n", SPAM_FILES_NOT_BUILT, 1, "ERROR list");

    /* Malformed lines. */
    expect_files("CUSTOM custom.txt\n", SPAM_FILES_ERROR, 1, "fewer than 2");
    expect_files("CUSTOM\tcustom.txt\textra\n", SPAM_FILES_ERROR, 1, "more than 2");
    expect_files("custom\tcustom.txt\n", SPAM_FILES_ERROR, 1, "column 1: not CUSTOM");
    expect_files("BAYES\tb.txt\n", SPAM_FILES_ERROR, 1, "column 1: not CUSTOM");
    expect_files("CUSTOM\ta.txt\nCUSTOM\tb.txt\n", SPAM_FILES_ERROR, 2, "second time");
    expect_files("CUSTOM\t\n", SPAM_FILES_ERROR, 1, "column 2: empty");
    expect_files("CUSTOM\tsub/custom.txt\n", SPAM_FILES_ERROR, 1, "column 2: file name with a '/'");
    expect_files("CUSTOM\t/etc/passwd\n", SPAM_FILES_ERROR, 1, "column 2: file name with a '/'");
    expect_files("CUSTOM\tsub\\c.txt\n", SPAM_FILES_ERROR, 1, "column 2: file name with a '/'");
    expect_files("CUSTOM\t..\n", SPAM_FILES_ERROR, 1, "column 2: file name with \"..\"");
    expect_files("CUSTOM\ta..b\n", SPAM_FILES_ERROR, 1, "column 2: file name with \"..\"");
    expect_files("CUSTOM\t.\n", SPAM_FILES_ERROR, 1, "column 2: file name \".\"");
    expect_files("CUSTOM\tcustom.txt \n", SPAM_FILES_ERROR, 1, "column 2: blank");
    expect_files("CUSTOM\tcus\rtom.txt\n", SPAM_FILES_ERROR, 1, "column 2: blank");
    char longname[7 + SPAM_FILES_NAME_MAX + 3];
    memcpy(longname, "CUSTOM\t", 7);
    memset(longname + 7, 'n', SPAM_FILES_NAME_MAX);
    longname[7 + SPAM_FILES_NAME_MAX] = '\0';
    expect_files(longname, SPAM_FILES_OK, 0, NULL);
    memcpy(longname + 7 + SPAM_FILES_NAME_MAX, "n", 2);
    expect_files(longname, SPAM_FILES_ERROR, 1, "column 2: file name longer than 255");
    /* A NUL is an error, not the end of the text. */
    assert_int_equal(spam_files_parse("CUSTOM\tc\0.txt\n", 14, &f, &e), SPAM_FILES_ERROR);
    assert_int_equal(e.line, 1);
    assert_string_equal(spam_list_name(SPAM_LIST_VIRUSERROR), "VIRUSERROR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guide_examples),
        cmocka_unit_test(test_columns_good),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_escapes_literal_backslash),
        cmocka_unit_test(test_escape_errors),
        cmocka_unit_test(test_column_errors),
        cmocka_unit_test(test_numbering),
        cmocka_unit_test(test_rules_max),
        cmocka_unit_test(test_line_and_string_bounds),
        cmocka_unit_test(test_detection_name),
        cmocka_unit_test(test_files_txt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

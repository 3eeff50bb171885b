/* Unit tests for proto/userdb_parse: the userdb.txt text (AUTH-2, AUTH-3,
 * C-46, G-06). Valid files in every form the spec names, every error with
 * the line it must name, the length and record limits at their edges, and
 * the canonical POP/FTP keys (parser and userdb_key_for agree). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/userdb_parse.h"

/* expect_record - the next record of p has this key, password, kind and
 * canonical key, at line. */
static void expect_record(struct userdb_parser *p, unsigned line, const char *key, const char *pw,
                          enum userdb_key_kind kind, const char *canon)
{
    struct userdb_record r;
    struct userdb_error e = {0};
    enum userdb_result res = userdb_next(p, &r, &e);
    if (res != USERDB_RECORD)
        fail_msg("line %u: wanted a record, got %d (line %u: %s)", line, res, e.line,
                 e.reason ? e.reason : "");
    assert_int_equal(r.line, line);
    assert_true(str_eq_cstr(r.key, key));
    assert_true(str_eq_cstr(r.password, pw));
    assert_string_equal(userdb_key_kind_name(r.kind), userdb_key_kind_name(kind));
    assert_string_equal(r.canon, canon);
    assert_int_equal(r.canon_len, strlen(canon));
}

static void expect_end(struct userdb_parser *p)
{
    struct userdb_record r;
    struct userdb_error e = {0};
    assert_int_equal(userdb_next(p, &r, &e), USERDB_END);
    assert_int_equal(userdb_next(p, &r, &e), USERDB_END);
}

/* expect_error - the whole text is refused at line, with a reason that
 * contains word; the error repeats on the next call. */
static void expect_error(const char *text, size_t len, unsigned line, const char *word)
{
    struct userdb_parser p;
    struct userdb_record r;
    struct userdb_error e = {0};
    enum userdb_result res;
    userdb_parser_init(&p, text, len);
    while ((res = userdb_next(&p, &r, &e)) == USERDB_RECORD)
        ;
    if (res != USERDB_ERROR)
        fail_msg("no error for %.*s", (int)(len > 60 ? 60 : len), text);
    if (e.line != line || !strstr(e.reason, word))
        fail_msg("wanted line %u \"%s\", got line %u \"%s\"", line, word, e.line, e.reason);
    struct userdb_error again = {0};
    assert_int_equal(userdb_next(&p, &r, &again), USERDB_ERROR);
    assert_int_equal(again.line, line);
    assert_string_equal(again.reason, e.reason);
}

static void expect_error_cstr(const char *text, unsigned line, const char *word)
{
    expect_error(text, strlen(text), line, word);
}

static void test_g06_forms(void **state)
{
    (void)state;
    /* G-06 / AUTH-3: plain users, user@server, user#server, @server, #server;
     * POP/FTP entries with an empty password line. */
    static const char text[] = "alice\n"
                               "s3cret pass\n"
                               "bob@pop.example.jp\n"
                               "\n"
                               "carol#FTP.Example.JP\n"
                               "x\n"
                               "@mail.example.jp\n"
                               "\n"
                               "#192.0.2.10\n"
                               "\n"
                               "a@b.example@pop.example\n"
                               "\n"
                               "dave@[2001:DB8:0:0::1]\n"
                               "\n";
    struct userdb_parser p;
    userdb_parser_init(&p, text, sizeof(text) - 1);
    expect_record(&p, 1, "alice", "s3cret pass", USERDB_KEY_PLAIN, "alice");
    expect_record(&p, 3, "bob@pop.example.jp", "", USERDB_KEY_USER_AT_SERVER, "bob@pop.example.jp");
    expect_record(&p, 5, "carol#FTP.Example.JP", "x", USERDB_KEY_USER_AT_SERVER,
                  "carol@ftp.example.jp");
    expect_record(&p, 7, "@mail.example.jp", "", USERDB_KEY_ANY_AT_SERVER, "@mail.example.jp");
    expect_record(&p, 9, "#192.0.2.10", "", USERDB_KEY_ANY_AT_SERVER, "@192.0.2.10");
    expect_record(&p, 11, "a@b.example@pop.example", "", USERDB_KEY_USER_AT_SERVER,
                  "a@b.example@pop.example");
    expect_record(&p, 13, "dave@[2001:DB8:0:0::1]", "", USERDB_KEY_USER_AT_SERVER,
                  "dave@[2001:db8::1]");
    expect_end(&p);
}

static void test_parts(void **state)
{
    (void)state;
    static const char text[] = "Carol#Pop.Example\n\n#[::1]\n\n";
    struct userdb_parser p;
    struct userdb_record r;
    struct userdb_error e;
    userdb_parser_init(&p, text, sizeof(text) - 1);
    assert_int_equal(userdb_next(&p, &r, &e), USERDB_RECORD);
    assert_true(str_eq_cstr(r.user, "Carol")); /* the user name keeps its case */
    assert_true(str_eq_cstr(r.server, "Pop.Example"));
    assert_string_equal(r.canon, "Carol@pop.example");
    assert_int_equal(userdb_next(&p, &r, &e), USERDB_RECORD);
    assert_int_equal(r.user.len, 0);
    assert_true(str_eq_cstr(r.server, "::1")); /* without its brackets */
    assert_string_equal(r.canon, "@[::1]");
    expect_end(&p);
}

static void test_line_ends(void **state)
{
    (void)state;
    struct userdb_parser p;
    static const char crlf[] = "alice\r\npw\r\nbob@pop.example\r\n\r\n";
    userdb_parser_init(&p, crlf, sizeof(crlf) - 1);
    expect_record(&p, 1, "alice", "pw", USERDB_KEY_PLAIN, "alice");
    expect_record(&p, 3, "bob@pop.example", "", USERDB_KEY_USER_AT_SERVER, "bob@pop.example");
    expect_end(&p);
    /* the last password needs no line end, in either convention */
    static const char nofinal[] = "alice\npw\nbob\r\nsecret";
    userdb_parser_init(&p, nofinal, sizeof(nofinal) - 1);
    expect_record(&p, 1, "alice", "pw", USERDB_KEY_PLAIN, "alice");
    expect_record(&p, 3, "bob", "secret", USERDB_KEY_PLAIN, "bob");
    expect_end(&p);
    /* an empty file is an empty database */
    userdb_parser_init(&p, "", 0);
    expect_end(&p);
}

static void test_errors(void **state)
{
    (void)state;
    /* blank key lines, also a trailing one and a CRLF one */
    expect_error_cstr("\nalice\npw\n", 1, "blank line");
    expect_error_cstr("alice\npw\n\nbob\npw\n", 3, "blank line");
    expect_error_cstr("alice\npw\n\n", 3, "blank line");
    expect_error_cstr("alice\npw\r\n\r\n", 3, "blank line");
    /* a key without its password line: the last line, or the last one ended */
    expect_error_cstr("alice\npw\nbob", 3, "without a password line");
    expect_error_cstr("alice\npw\nbob\n", 3, "without a password line");
    expect_error_cstr("@pop.example\n", 1, "without a password line");
    /* control bytes and NUL, in the key or its password (the key's line named) */
    expect_error_cstr("al\tice\npw\n", 1, "control byte");
    expect_error_cstr("alice\npw\nbo\rb\npw\n", 3, "control byte or NUL in the user name");
    expect_error_cstr("alice\npw\nbob\np\x7fw\n", 3, "control byte or NUL in the password");
    expect_error_cstr("alice\npw\r", 1, "password line"); /* a CR not before LF */
    expect_error("ali\0ce\npw\n", 10, 1, "NUL");
    expect_error("alice\np\0w\n", 10, 1, "password line");
    /* blanks in a key, empty password of a plain user */
    expect_error_cstr("alice \npw\n", 1, "blank in the user name");
    expect_error_cstr("al ice@pop.example\n\n", 1, "blank in the user name");
    expect_error_cstr("alice\npw\nbob\n\n", 3, "empty password line for a user name");
    /* server parts user_target would refuse, and ports */
    expect_error_cstr("alice@\n\n", 1, "not a host name");
    expect_error_cstr("@\n\n", 1, "not a host name");
    expect_error_cstr("alice@pop/example\n\n", 1, "not a host name");
    expect_error_cstr("alice@::1\n\n", 1, "not a host name"); /* IPv6 needs brackets */
    expect_error_cstr("alice@[::1\n\n", 1, "not a host name");
    expect_error_cstr("alice@pop.example:110\n\n", 1, "port");
    expect_error_cstr("alice@[::1]:110\n\n", 1, "port");
    expect_error_cstr("alice@[1:2]\n\n", 1, "not an IPv6 address");
    expect_error_cstr("alice@[::1::2]\n\n", 1, "not an IPv6 address");
}

static void test_limits(void **state)
{
    (void)state;
    char text[1100];
    struct userdb_parser p;
    struct userdb_record r;
    struct userdb_error e;
    /* a 255-byte key and a 255-byte password are accepted */
    memset(text, 'k', 255);
    text[255] = '\n';
    memset(text + 256, 'p', 255);
    userdb_parser_init(&p, text, 511);
    assert_int_equal(userdb_next(&p, &r, &e), USERDB_RECORD);
    assert_int_equal(r.key.len, 255);
    assert_int_equal(r.password.len, 255);
    assert_int_equal(r.canon_len, 255);
    expect_end(&p);
    /* 256 bytes is one too many, for either; the key's line is named */
    memcpy(text, "a\nb\n", 4);
    memset(text + 4, 'k', 256);
    text[260] = '\n';
    memcpy(text + 261, "pw\n", 3);
    expect_error(text, 264, 3, "user name longer than 255");
    memcpy(text, "a\nb\nk\n", 6);
    memset(text + 6, 'p', 256);
    expect_error(text, 262, 3, "password line longer than 255");
    /* a 255-byte user@server key (the limit counts the whole key) */
    memset(text, 'u', 243);
    memcpy(text + 243, "@pop.example\n\n", 14); /* 243 + 12 = 255 */
    userdb_parser_init(&p, text, 257);
    assert_int_equal(userdb_next(&p, &r, &e), USERDB_RECORD);
    assert_int_equal(r.canon_len, 255);
    memset(text, 'u', 244);
    memcpy(text + 244, "@pop.example\n\n", 14);
    expect_error(text, 258, 1, "longer than 255");
    /* the RFC 5952 form of "::ffff:0:0" is "::ffff:0.0.0.0": 4 bytes longer */
    memset(text, 'u', 241);
    memcpy(text + 241, "@[::ffff:0:0]\n\n", 15); /* 241 + 13 = 254 */
    expect_error(text, 256, 1, "canonical key");
    /* a file over USERDB_FILE_MAX is refused before its text is read
     * (the text is not touched: a short buffer stands for it) */
    userdb_parser_init(&p, "a\nb\n", USERDB_FILE_MAX + 1);
    assert_int_equal(userdb_next(&p, &r, &e), USERDB_ERROR);
    assert_int_equal(e.line, 0);
    assert_non_null(strstr(e.reason, "larger than"));
}

static void test_records_max(void **state)
{
    (void)state;
    /* USERDB_RECORDS_MAX records are accepted, one more is refused at its key */
    size_t n = (size_t)(USERDB_RECORDS_MAX + 1) * 4;
    char *text = malloc(n);
    assert_non_null(text);
    for (size_t i = 0; i < USERDB_RECORDS_MAX + 1; i++)
        memcpy(text + i * 4, "u\np\n", 4);
    struct userdb_parser p;
    struct userdb_record r;
    struct userdb_error e;
    unsigned count = 0;
    userdb_parser_init(&p, text, n - 4);
    while (userdb_next(&p, &r, &e) == USERDB_RECORD)
        count++;
    assert_int_equal(count, USERDB_RECORDS_MAX);
    assert_int_equal(userdb_next(&p, &r, &e), USERDB_END);
    count = 0;
    userdb_parser_init(&p, text, n);
    while (userdb_next(&p, &r, &e) == USERDB_RECORD)
        count++;
    assert_int_equal(count, USERDB_RECORDS_MAX);
    assert_int_equal(e.line, 2 * USERDB_RECORDS_MAX + 1);
    assert_non_null(strstr(e.reason, "more than 100000 records"));
    free(text);
}

static void test_key_for(void **state)
{
    (void)state;
    char out[USERDB_KEY_MAX + 1];
    /* what the POP/FTP session will look up: the parts of USER name@host */
    assert_int_equal(userdb_key_for(STR_LIT("Bob"), STR_LIT("POP.Example.JP"), out, sizeof(out)),
                     18);
    assert_string_equal(out, "Bob@pop.example.jp");
    assert_int_equal(userdb_key_for(STR_LIT(""), STR_LIT("192.0.2.1"), out, sizeof(out)), 10);
    assert_string_equal(out, "@192.0.2.1");
    /* IPv6 as user_target returns it (no brackets) or bracketed: one key */
    assert_int_equal(userdb_key_for(STR_LIT("a"), STR_LIT("2001:DB8::0:1"), out, sizeof(out)), 15);
    assert_string_equal(out, "a@[2001:db8::1]");
    assert_int_equal(userdb_key_for(STR_LIT("a"), STR_LIT("[2001:db8::1]"), out, sizeof(out)), 15);
    assert_string_equal(out, "a@[2001:db8::1]");
    /* what the parser writes for the same entry */
    static const char text[] = "a#[2001:DB8:0::1]\n\n";
    struct userdb_parser p;
    userdb_parser_init(&p, text, sizeof(text) - 1);
    expect_record(&p, 1, "a#[2001:DB8:0::1]", "", USERDB_KEY_USER_AT_SERVER, "a@[2001:db8::1]");
    /* refused: no key could match */
    assert_int_equal(userdb_key_for(STR_LIT("a b"), STR_LIT("pop.example"), out, sizeof(out)), 0);
    assert_int_equal(userdb_key_for(STR_LIT("a\r"), STR_LIT("pop.example"), out, sizeof(out)), 0);
    assert_int_equal(userdb_key_for(STR_LIT("a"), STR_LIT(""), out, sizeof(out)), 0);
    assert_int_equal(userdb_key_for(STR_LIT("a"), STR_LIT("pop.example:110"), out, sizeof(out)), 0);
    assert_int_equal(userdb_key_for(STR_LIT("a"), STR_LIT("pop@example"), out, sizeof(out)), 0);
    assert_int_equal(userdb_key_for(STR_LIT("a"), STR_LIT("::1\0x"), out, sizeof(out)), 0);
    assert_int_equal(userdb_key_for(STR_LIT("a"), STR_LIT("1:2"), out, sizeof(out)), 0);
    assert_string_equal(out, "");
    /* the caller's capacity */
    assert_int_equal(userdb_key_for(STR_LIT("ab"), STR_LIT("c"), out, 5), 4);
    assert_int_equal(userdb_key_for(STR_LIT("ab"), STR_LIT("c"), out, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_g06_forms), cmocka_unit_test(test_parts),
        cmocka_unit_test(test_line_ends), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),    cmocka_unit_test(test_records_max),
        cmocka_unit_test(test_key_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for proto/ini_edit: the console's settings pages change
 * values in conf/sekisho.ini and must leave everything else of the file as
 * the administrator wrote it. Each case compares the whole new text with
 * the text expected byte for byte (the "nothing else changed" check: a
 * stray blank, a lost comment or a changed line end fails it) and reads
 * the result back with proto/ini_parse, the loader's own tokenizer, to
 * check that every changed key has exactly the value given (the round
 * trip), also for values that need quotes. The shipped conf/sekisho.ini
 * is edited too, and every refusal is checked with its reason and an
 * empty output. Inputs are heap copies of exactly their length (ASan sees
 * a read past the end). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "proto/ini_edit.h"
#include "proto/ini_parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* alias_same - like core/config: block_message_len is another spelling of
 * block_messagesize_len; keys compare ASCII case-insensitively. */
static bool alias_same(struct str file_key, const char *key, void *arg)
{
    int *calls = arg;
    if (calls)
        (*calls)++;
    static const char *const pair[2] = {"block_message_len", "block_messagesize_len"};
    if (str_caseeq_cstr(file_key, key))
        return true;
    for (int i = 0; i < 2; i++)
        if (str_caseeq_cstr(file_key, pair[i]) && strcasecmp(key, pair[1 - i]) == 0)
            return true;
    return false;
}

/* values_of - every value ini_parse gives for [section] key (valid
 * sections only), in file order, into vals; their number. */
static size_t values_of(const char *text, size_t len, const char *section, const char *key,
                        ini_same_key_fn *same, char vals[][INI_LINE_MAX + 1], size_t cap)
{
    struct ini_parser ps;
    struct ini_item it;
    enum ini_parse_result r;
    size_t n = 0;
    ini_parse_init(&ps, text, len);
    while ((r = ini_parse_next(&ps, &it)) != INI_PARSE_DONE) {
        if (r != INI_PARSE_ENTRY || !it.section.ptr || it.section_invalid ||
            !str_caseeq_cstr(it.section, section))
            continue;
        if (!(same ? same(it.key, key, NULL) : str_caseeq_cstr(it.key, key)))
            continue;
        if (n < cap)
            str_copy_view(vals[n], INI_LINE_MAX + 1, it.value);
        n++;
    }
    return n;
}

/* round_trip - the new text, parsed again, has each change's value in
 * every entry of its key (at least one), or no entry for a removal. */
static void round_trip(const char *text, size_t len, const struct ini_change *ch, size_t n,
                       ini_same_key_fn *same)
{
    static char vals[8][INI_LINE_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        size_t k = values_of(text, len, ch[i].section, ch[i].key, same, vals, N(vals));
        if (!ch[i].value) {
            if (k != 0)
                fail_msg("[%s] %s still present %zu times", ch[i].section, ch[i].key, k);
            continue;
        }
        if (k == 0)
            fail_msg("[%s] %s missing after the edit", ch[i].section, ch[i].key);
        for (size_t j = 0; j < k && j < N(vals); j++)
            if (strcmp(vals[j], ch[i].value) != 0)
                fail_msg("[%s] %s reads back as '%s', not '%s'", ch[i].section, ch[i].key, vals[j],
                         ch[i].value);
    }
}

/* edit_n - apply to a copy of exactly len bytes; the new text (malloc'd,
 * NUL-terminated for the messages) or NULL with err. */
static char *edit_n(const char *text, size_t len, const struct ini_change *ch, size_t n,
                    ini_same_key_fn *same, size_t *outlen, char *err, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    struct buf out = {0};
    bool ok = ini_edit_apply(copy, len, ch, n, same, NULL, &out, err, errlen);
    free(copy);
    if (!ok) {
        assert_null(out.data);
        assert_int_equal(buf_len(&out), 0);
        return NULL;
    }
    assert_int_equal(out.cap, buf_len(&out)); /* sized exactly */
    char *res = malloc(buf_len(&out) + 1);
    assert_non_null(res);
    memcpy(res, buf_rptr(&out), buf_len(&out));
    res[buf_len(&out)] = '\0';
    *outlen = buf_len(&out);
    buf_fini(&out);
    return res;
}

/* expect_n - the edit gives exactly want (want_len bytes), which reads
 * back with the new values. */
static void expect_n(const char *text, size_t len, const struct ini_change *ch, size_t n,
                     ini_same_key_fn *same, const char *want, size_t want_len)
{
    char err[INI_EDIT_ERR_MAX] = "";
    size_t got_len = 0;
    char *got = edit_n(text, len, ch, n, same, &got_len, err, sizeof(err));
    if (!got)
        fail_msg("refused: %s\n---\n%s", err, text);
    if (got_len != want_len || memcmp(got, want, want_len) != 0)
        fail_msg("---- got (%zu bytes)\n%s\n---- wanted (%zu bytes)\n%s\n----", got_len, got,
                 want_len, want);
    round_trip(got, got_len, ch, n, same);
    free(got);
}

static void expect(const char *text, const struct ini_change *ch, size_t n, const char *want)
{
    expect_n(text, strlen(text), ch, n, NULL, want, strlen(want));
}

static void expect_same(const char *text, const struct ini_change *ch, size_t n,
                        ini_same_key_fn *same, const char *want)
{
    expect_n(text, strlen(text), ch, n, same, want, strlen(want));
}

static void refused(const char *text, const struct ini_change *ch, size_t n, const char *word)
{
    char err[INI_EDIT_ERR_MAX] = "";
    size_t got_len = 0;
    char *got = edit_n(text, strlen(text), ch, n, alias_same, &got_len, err, sizeof(err));
    if (got)
        fail_msg("accepted:\n%s", got);
    if (!strstr(err, word))
        fail_msg("wanted \"%s\", got \"%s\"", word, err);
    assert_null(strchr(err, '\n'));
}

static void test_rewrite(void **state)
{
    (void)state;
    /* the key's spelling, the blanks around '=' and after the value, the
     * comments and the other keys stay */
    const struct ini_change c1[] = {{"http", "svcport", "127.0.0.1:8080"}};
    expect("# top\n[common]\nsvcport=1\n\n[http]\n ; c\n  SvcPort \t=  127.0.0.1:9080 \t\n"
           "action=delete\n",
           c1, N(c1),
           "# top\n[common]\nsvcport=1\n\n[http]\n ; c\n  SvcPort \t=  127.0.0.1:8080 \t\n"
           "action=delete\n");
    /* an empty value, with and without blanks after '=' */
    const struct ini_change c2[] = {{"http", "a", "x"}, {"http", "b", "y"}};
    expect("[http]\na=\nb =  \n", c2, N(c2), "[http]\na=x\nb =  y\n");
    /* to an empty value; a quoted old value loses its quotes */
    const struct ini_change c3[] = {{"http", "a", ""}, {"http", "b", "plain"}};
    expect("[http]\na = old\nb=\" spaced \"  \n", c3, N(c3), "[http]\na = \nb=plain  \n");
    /* a repeated key: every occurrence, in every block of the section */
    const struct ini_change c4[] = {{"smtp", "pre_spawn", "50"}};
    expect("[smtp]\npre_spawn=1\n[http]\npre_spawn=2\n[SMTP]\npre_spawn = 3\n", c4, N(c4),
           "[smtp]\npre_spawn=50\n[http]\npre_spawn=2\n[SMTP]\npre_spawn = 50\n");
    /* '=' in the old and the new value: the key ends at the first one */
    const struct ini_change c5[] = {{"common", "cmd", "a=b=c"}};
    expect("[common]\ncmd=x=y\n", c5, N(c5), "[common]\ncmd=a=b=c\n");
}

static void test_insert(void **state)
{
    (void)state;
    /* after the last entry of the section, before the blank and comment
     * lines that end it (and before an invalid line in it) */
    const struct ini_change c1[] = {{"http", "keepalive", "no"}};
    expect("[http]\na=1\nb=2\n\n# smtp next\n[smtp]\na=1\n", c1, N(c1),
           "[http]\na=1\nb=2\nkeepalive=no\n\n# smtp next\n[smtp]\na=1\n");
    expect("[http]\na=1\nnot an entry\n[smtp]\n", c1, N(c1),
           "[http]\na=1\nkeepalive=no\nnot an entry\n[smtp]\n");
    /* a section without entries: right after its header (a comment after
     * the header is part of the header line) */
    expect("[http] # web\n\n[smtp]\n", c1, N(c1), "[http] # web\nkeepalive=no\n\n[smtp]\n");
    /* a section in two blocks: the last one */
    expect("[http]\na=1\n[smtp]\nb=2\n[http]\nc=3\n\n", c1, N(c1),
           "[http]\na=1\n[smtp]\nb=2\n[http]\nc=3\nkeepalive=no\n\n");
    /* two keys at one place: in the order of the changes; a change of an
     * existing key in between */
    const struct ini_change c2[] = {{"pop", "z", "1"}, {"pop", "a", "changed"}, {"pop", "y", "2"}};
    expect("[pop]\na=0\n", c2, N(c2), "[pop]\na=changed\nz=1\ny=2\n");
    /* the last line has no line end: it gets one first */
    expect("[http]\na=1", c1, N(c1), "[http]\na=1\nkeepalive=no\n");
    expect("[http]", c1, N(c1), "[http]\nkeepalive=no\n");
    /* ... and a file cut after a CR gets just the LF */
    const struct ini_change c3[] = {{"ftp", "k", "v"}};
    expect("[ftp]\r\na=1\r", c3, N(c3), "[ftp]\r\na=1\r\nk=v\r\n");
    /* the section name of the file is kept, matched in any case */
    expect("[HTTP]\na=1\n", c1, N(c1), "[HTTP]\na=1\nkeepalive=no\n");
}

static void test_new_section(void **state)
{
    (void)state;
    const struct ini_change c1[] = {{"ftp", "ftp_service", "yes"}};
    expect("[http]\na=1\n", c1, N(c1), "[http]\na=1\n\n[ftp]\nftp_service=yes\n");
    expect("[http]\na=1", c1, N(c1), "[http]\na=1\n\n[ftp]\nftp_service=yes\n");
    expect("# only a comment", c1, N(c1), "# only a comment\n\n[ftp]\nftp_service=yes\n");
    /* an empty file gets no blank line first; neither does a BOM alone */
    expect("", c1, N(c1), "[ftp]\nftp_service=yes\n");
    expect("\xef\xbb\xbf", c1, N(c1), "\xef\xbb\xbf[ftp]\nftp_service=yes\n");
    /* one header for all keys of a new section, sections in the order of
     * their first change; removals of absent keys add nothing */
    const struct ini_change c2[] = {{"ftp", "a", "1"},
                                    {"pop", "b", "2"},
                                    {"FTP", "c", "3"},
                                    {"smtp", "gone", NULL},
                                    {"http", "x", "4"}};
    expect("[http]\n", c2, N(c2), "[http]\nx=4\n\n[ftp]\na=1\nc=3\n\n[pop]\nb=2\n");
    /* entries before any header or below an invalid one belong to no
     * section: the key is added to a real [http] */
    const struct ini_change c3[] = {{"http", "a", "new"}};
    expect("a=1\n[http\na=2\n", c3, N(c3), "a=1\n[http\na=2\n\n[http]\na=new\n");
    expect("[http]\nb=0\n[http] junk\na=2\n", c3, N(c3), "[http]\nb=0\na=new\n[http] junk\na=2\n");
}

static void test_remove(void **state)
{
    (void)state;
    const struct ini_change c1[] = {{"http", "keepalive", NULL}};
    expect("[http]\na=1\nkeepalive = yes\nb=2\n", c1, N(c1), "[http]\na=1\nb=2\n");
    /* every occurrence, CRLF line ends go with their lines */
    expect("[http]\r\nkeepalive=1\r\n[smtp]\r\nkeepalive=2\r\n[http]\r\nkeepalive=3\r\n", c1, N(c1),
           "[http]\r\n[smtp]\r\nkeepalive=2\r\n[http]\r\n");
    /* the last line without a line end */
    expect("[http]\na=1\nkeepalive=yes", c1, N(c1), "[http]\na=1\n");
    /* absent key or section: nothing changes */
    expect("[http]\na=1\n", c1, N(c1), "[http]\na=1\n");
    expect("[smtp]\nkeepalive=1", c1, N(c1), "[smtp]\nkeepalive=1");
    /* a removal and an insertion anchored on the removed line */
    const struct ini_change c2[] = {{"http", "b", NULL}, {"http", "c", "3"}};
    expect("[http]\na=1\nb=2\n\n", c2, N(c2), "[http]\na=1\nc=3\n\n");
}

static void test_line_ends_and_bom(void **state)
{
    (void)state;
    /* new lines get the file's line end; the BOM stays */
    const struct ini_change c1[] = {{"http", "a", "9"}, {"http", "n", "new"}, {"ftp", "f", "1"}};
    expect("\xef\xbb\xbf[http]\r\na=1\r\n\r\n", c1, N(c1),
           "\xef\xbb\xbf[http]\r\na=9\r\nn=new\r\n\r\n\r\n[ftp]\r\nf=1\r\n");
    /* a BOM before a key of line 1 (no section: untouched) */
    expect("\xef\xbb\xbf"
           "a=1\n",
           c1, N(c1),
           "\xef\xbb\xbf"
           "a=1\n\n[http]\na=9\nn=new\n\n[ftp]\nf=1\n");
    /* mixed line ends stay as they are; the first line's is used */
    const struct ini_change c2[] = {{"http", "b", "2"}, {"http", "a", "x"}};
    expect("[http]\na=1\r\n", c2, N(c2), "[http]\na=x\r\nb=2\n");
}

static void test_quoting(void **state)
{
    (void)state;
    /* values that need quotes, values that do not, and how they read back */
    static const struct {
        const char *value, *line;
    } v[] = {
        {" lead", "k=\" lead\""},
        {"trail\t", "k=\"trail\t\""},
        {" ", "k=\" \""},
        {"\"quoted\"", "k=\"\"quoted\"\""},
        {"\"", "k=\"\"\""},
        {"\"open", "k=\"\"open\""},
        {"", "k="},
        {"close\"", "k=close\""},
        {"in\"side", "k=in\"side"},
        {"a\tb c", "k=a\tb c"},
        {"#not a comment", "k=#not a comment"},
        {";x;y", "k=;x;y"},
        {"[s]", "k=[s]"},
        {"\xe6\x97\xa5\xe6\x9c\xac", "k=\xe6\x97\xa5\xe6\x9c\xac"},
    };
    for (size_t i = 0; i < N(v); i++) {
        const struct ini_change c[] = {{"s", "k", v[i].value}};
        char want[64], want2[64];
        snprintf(want, sizeof(want), "[s]\n%s\n", v[i].line);
        expect("[s]\nk=old\n", c, 1, want); /* rewritten */
        snprintf(want2, sizeof(want2), "[s]\nj=1\n%s\n", v[i].line);
        expect("[s]\nj=1\n", c, 1, want2); /* inserted */
    }
}

static void test_kept_lines(void **state)
{
    (void)state;
    /* invalid, too long and control-byte lines are copied as they are,
     * and a matching key on them is not an entry */
    static char text[2 * INI_LINE_MAX];
    static char want[2 * INI_LINE_MAX];
    int n = snprintf(text, sizeof(text), "[http]\nk=1\nbad line\nk=\"open\n");
    memset(text + n, 'x', INI_LINE_MAX + 1);
    memcpy(text + n, "k=", 2);
    n += INI_LINE_MAX + 1;
    n += snprintf(text + n, sizeof(text) - (size_t)n, "\nk=a\x01z\n[\n");
    memcpy(want, text, (size_t)n + 1);
    memcpy(want + 7, "k=2", 3);
    const struct ini_change c[] = {{"http", "k", "2"}};
    expect_n(text, (size_t)n, c, 1, NULL, want, (size_t)n);
    /* a NUL in a line: kept, the rest of the file still edited */
    const char nul[] = "[http]\nq=\0\nk=1\n";
    const char nul_want[] = "[http]\nq=\0\nk=22\n";
    const struct ini_change c2[] = {{"http", "k", "22"}};
    expect_n(nul, sizeof(nul) - 1, c2, 1, NULL, nul_want, sizeof(nul_want) - 1);
    /* no changes: a copy, whatever the bytes */
    const char junk[] = "\xff\x00\r\r\n[[x\n=\n";
    expect_n(junk, sizeof(junk) - 1, NULL, 0, NULL, junk, sizeof(junk) - 1);
    expect_n("", 0, NULL, 0, NULL, "", 0);
}

static void test_aliases(void **state)
{
    (void)state;
    /* the caller's compare decides: the file's alias spelling is kept */
    const struct ini_change c1[] = {{"smtp", "block_messagesize_len", "20"}};
    expect_same("[smtp]\nblock_message_len=10\n", c1, 1, alias_same,
                "[smtp]\nblock_message_len=20\n");
    const struct ini_change c2[] = {{"smtp", "BLOCK_MESSAGE_LEN", NULL}};
    expect_same("[smtp]\nblock_messagesize_len=10\nx=1\n", c2, 1, alias_same, "[smtp]\nx=1\n");
    /* the compare gets the caller's argument */
    int calls = 0;
    struct buf out = {0};
    char err[INI_EDIT_ERR_MAX];
    assert_true(
        ini_edit_apply("[smtp]\na=1\n", 11, c1, 1, alias_same, &calls, &out, err, sizeof(err)));
    assert_true(calls > 0);
    buf_fini(&out);
}

static void test_refused(void **state)
{
    (void)state;
    const char *text = "[http]\na=1\n";
    const struct ini_change cr[] = {{"http", "a", "x\ry"}};
    refused(text, cr, 1, "[http] a: control byte 0x0d in the value");
    const struct ini_change lf[] = {{"http", "a", "x\n[smtp]"}};
    refused(text, lf, 1, "control byte 0x0a");
    const struct ini_change del[] = {{"http", "a", "\x7f"}};
    refused(text, del, 1, "control byte 0x7f");
    const struct ini_change esc[] = {{"http", "new", "\x1b[0m"}};
    refused(text, esc, 1, "control byte 0x1b");
    const struct ini_change s1[] = {{"", "a", "1"}};
    refused(text, s1, 1, "change 1: the section name");
    const struct ini_change s2[] = {{"http", "a", "1"}, {"ht tp", "a", "1"}};
    refused(text, s2, 2, "change 2: the section name");
    const struct ini_change s3[] = {{"[http]", "a", "1"}};
    refused(text, s3, 1, "section name");
    const struct ini_change s4[] = {{NULL, "a", "1"}};
    refused(text, s4, 1, "section name");
    const struct ini_change k1[] = {{"http", "a=b", "1"}};
    refused(text, k1, 1, "change 1: the key");
    const struct ini_change k2[] = {{"http", "", "1"}};
    refused(text, k2, 1, "the key");
    const struct ini_change k3[] = {{"http", NULL, "1"}};
    refused(text, k3, 1, "the key");
    /* twice: same key, other case, other section case, an alias; also a
     * removal and a set of one key */
    const struct ini_change d1[] = {{"http", "a", "1"}, {"HTTP", "A", "2"}};
    refused(text, d1, 2, "[HTTP] A: changed twice (changes 1 and 2)");
    const struct ini_change d2[] = {{"smtp", "block_message_len", "1"},
                                    {"x", "y", "1"},
                                    {"smtp", "block_messagesize_len", NULL}};
    refused(text, d2, 3, "changed twice (changes 1 and 3)");
    /* the same key in two sections is fine */
    const struct ini_change ok[] = {{"http", "a", "1"}, {"smtp", "a", "2"}};
    expect(text, ok, 2, "[http]\na=1\n\n[smtp]\na=2\n");
    static struct ini_change many[INI_EDIT_MAX + 1];
    static char keys[INI_EDIT_MAX + 1][8];
    for (size_t i = 0; i < N(many); i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
        many[i] = (struct ini_change){"http", keys[i], "v"};
    }
    refused(text, many, N(many), "more than 512 changes");
    char err[INI_EDIT_ERR_MAX];
    size_t got_len;
    char *got = edit_n(text, strlen(text), many, INI_EDIT_MAX, NULL, &got_len, err, sizeof(err));
    assert_non_null(got);
    round_trip(got, got_len, many, INI_EDIT_MAX, NULL);
    free(got);
}

static void test_line_limit(void **state)
{
    (void)state;
    /* a rewritten line: prefix "  k = ", value, the trailing blank */
    static char value[INI_LINE_MAX + 2];
    static char want[INI_LINE_MAX + 64];
    size_t fit = INI_LINE_MAX - 7;
    memset(value, 'v', fit);
    value[fit] = '\0';
    const struct ini_change c[] = {{"s", "k", value}};
    snprintf(want, sizeof(want), "[s]\n  k = %s \n", value);
    expect("[s]\n  k = old \n", c, 1, want);
    value[fit] = 'v';
    value[fit + 1] = '\0';
    refused("[s]\n  k = old \n", c, 1, "[s] k: the line would be longer than 4096 bytes");
    /* quotes count */
    memset(value, 'v', fit);
    value[0] = ' ';
    value[fit] = '\0';
    refused("[s]\n  k = old \n", c, 1, "longer than 4096");
    /* an inserted line "k=" value */
    memset(value, 'v', INI_LINE_MAX - 2);
    value[INI_LINE_MAX - 2] = '\0';
    snprintf(want, sizeof(want), "[s]\nk=%s\n", value);
    expect("[s]\n", c, 1, want);
    expect("", c, 1, want);
    value[INI_LINE_MAX - 2] = 'v';
    value[INI_LINE_MAX - 1] = '\0';
    refused("[s]\n", c, 1, "longer than 4096");
    refused("", c, 1, "longer than 4096");
    /* a removal has no length */
    const struct ini_change rm[] = {{"s", "k", NULL}};
    expect("[s]\nk=1\n", rm, 1, "[s]\n");
}

/* fixture - a file of the source tree (tests run from the repository
 * root; __FILE__ is relative to it). */
static char *fixture(const char *name, size_t *len)
{
    char path[512];
    const char *me = __FILE__;
    const char *cut = strstr(me, "tests/unit/");
    snprintf(path, sizeof(path), "%.*s%s", cut ? (int)(cut - me) : 0, me, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[256 * 1024];
    *len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_true(*len < sizeof(buf));
    char *copy = malloc(*len + 1);
    assert_non_null(copy);
    memcpy(copy, buf, *len);
    copy[*len] = '\0';
    return copy;
}

/* replace_once - text with the only occurrence of from replaced by to. */
static char *replace_once(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    if (!at || strstr(at + 1, from))
        fail_msg("'%s' is not in the text exactly once", from);
    size_t n = strlen(text) - strlen(from) + strlen(to);
    char *r = malloc(n + 1);
    assert_non_null(r);
    snprintf(r, n + 1, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return r;
}

static void test_shipped_file(void **state)
{
    (void)state;
    size_t len;
    char *ini = fixture("conf/sekisho.ini", &len);
    const struct ini_change c[] = {
        {"http", "svcport", "127.0.0.1:8081"},    /* [http] svcport, not [smtp]'s */
        {"smtp", "parent_server_port", "2525"},   /* another section */
        {"common", "workers", NULL},              /* removed */
        {"pop", "sekisho_admin_test_key", " q "}, /* inserted, quoted */
        {"http", "action", "pass"},
    };
    char *a = replace_once(ini, "\nsvcport=127.0.0.1:9080\n", "\nsvcport=127.0.0.1:8081\n");
    char *b = replace_once(a, "\nparent_server_port=25\n", "\nparent_server_port=2525\n");
    char *d = replace_once(b, "\nworkers=0\n", "\n");
    char *e = replace_once(d, "\naction=delete\n", "\naction=pass\n");
    /* [pop]: after its last entry, which is the last key=value line
     * before [ftp] */
    const char *pop = strstr(e, "\n[pop]\n");
    const char *ftp = strstr(e, "\n[ftp]\n");
    assert_non_null(pop);
    assert_non_null(ftp);
    const char *last = NULL;
    for (const char *p = pop + 1; p < ftp; p = strchr(p, '\n') + 1) {
        if (*p != '#' && *p != '\n' && *p != ';' && *p != '[')
            last = p;
    }
    assert_non_null(last);
    const char *eol = strchr(last, '\n') + 1;
    size_t wn = strlen(e) + 64;
    char *want = malloc(wn);
    assert_non_null(want);
    snprintf(want, wn, "%.*ssekisho_admin_test_key=\" q \"\n%s", (int)(eol - e), e, eol);
    expect_n(ini, len, c, N(c), NULL, want, strlen(want));
    free(a);
    free(b);
    free(d);
    free(e);
    free(want);
    free(ini);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrite),           cmocka_unit_test(test_insert),
        cmocka_unit_test(test_new_section),       cmocka_unit_test(test_remove),
        cmocka_unit_test(test_line_ends_and_bom), cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_kept_lines),        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_refused),           cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_shipped_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for proto/mbox_format (mboxrd quarantine entries). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/mbox_format.h"

static void entry(const char *msg, size_t step, char *out, size_t cap)
{
    struct buf b;
    buf_init(&b, out, cap);
    struct mbox_writer w;
    mbox_writer_init(&w);
    size_t len = strlen(msg);
    for (size_t i = 0; i < len; i += step)
        assert_true(mbox_write(&w, msg + i, len - i < step ? len - i : step, &b));
    assert_true(mbox_finish(&w, &b));
    buf_append(&b, "", 1);
}

static void check(const char *msg, const char *want)
{
    for (size_t step = 1; step <= strlen(msg) + 1; step++) {
        char out[512];
        entry(msg, step, out, sizeof(out));
        assert_string_equal(out, want);
    }
}

static void test_escaping(void **state)
{
    (void)state;
    check("Subject: x\r\n\r\nFrom me\r\n>From you\r\nFromage\r\n",
          "Subject: x\n\n>From me\n>>From you\nFromage\n\n");
    check("a\r\nb", "a\nb\n\n"); /* no final line end */
    check("x\r\r\n", "x\r\n\n"); /* a lone CR is kept */
    check("From ", ">From \n\n");
    check(">>", ">>\n\n");
    check("", "\n");
}

static void test_separator(void **state)
{
    (void)state;
    char mem[128];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(mbox_separator(&b, "a b@c", 0));
    assert_true(mbox_separator(&b, "", 0));
    buf_append(&b, "", 1);
    assert_string_equal(mem, "From a_b@c Thu Jan  1 00:00:00 1970\n"
                             "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n");
}

static void test_all_or_nothing(void **state)
{
    (void)state;
    char mem[4];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct mbox_writer w;
    mbox_writer_init(&w);
    assert_false(mbox_write(&w, "hello\n", 6, &b));
    assert_int_equal(buf_len(&b), 0);
    assert_true(w.line_start);
}

/* read_back - the entry (separator + msg in mailbox format) read back
 * with mbox_read fed step bytes at a time. */
static void read_back(const char *msg, size_t step, char *out, size_t cap)
{
    char entry_mem[1024];
    struct buf e;
    buf_init(&e, entry_mem, sizeof(entry_mem));
    assert_true(mbox_separator(&e, "s@x", 0));
    struct mbox_writer w;
    mbox_writer_init(&w);
    assert_true(mbox_write(&w, msg, strlen(msg), &e));
    assert_true(mbox_finish(&w, &e));
    struct buf b;
    buf_init(&b, out, cap);
    struct mbox_reader r;
    mbox_reader_init(&r);
    for (size_t i = 0; i < buf_len(&e); i += step)
        assert_true(
            mbox_read(&r, buf_rptr(&e) + i, buf_len(&e) - i < step ? buf_len(&e) - i : step, &b));
    assert_true(mbox_read_finish(&r, &b));
    buf_append(&b, "", 1);
}

static void check_round_trip(const char *msg, const char *want)
{
    for (size_t step = 1; step <= strlen(msg) + 48; step++) {
        char out[1024];
        read_back(msg, step, out, sizeof(out));
        assert_string_equal(out, want);
    }
}

static void test_reader_undoes_the_writer(void **state)
{
    (void)state;
    const char *same[] = {
        "Subject: x\r\n\r\nFrom me\r\n>From you\r\n>>From them\r\nFromage\r\n",
        "a\r\n\r\n\r\nb\r\n", /* empty lines, the last one too */
        "From \r\n>\r\n>F\r\n>Fro\r\n",
        "x\r\r\n", /* a lone CR */
        "",
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        check_round_trip(same[i], same[i]);
    /* What the writer could not keep: the missing final line end (added,
     * as SMTP needs it), a bare LF (CRLF). */
    check_round_trip("a\r\nb", "a\r\nb\r\n");
    check_round_trip("a\nb\r\n", "a\r\nb\r\n");
}

static void test_reader_all_or_nothing(void **state)
{
    (void)state;
    char mem[4];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct mbox_reader r;
    mbox_reader_init(&r);
    assert_true(mbox_read(&r, "From x\n", 7, &b));
    assert_int_equal(buf_len(&b), 0); /* the separator is not the message */
    assert_false(mbox_read(&r, "hello\n", 6, &b));
    assert_int_equal(buf_len(&b), 0);
    assert_true(r.line_start);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_separator),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_reader_undoes_the_writer),
        cmocka_unit_test(test_reader_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

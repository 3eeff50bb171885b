/* Unit tests for proto/smtp_dot (RFC 5321 4.5.2 transparency). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/smtp_dot.h"

/* decode s fed in pieces of step bytes; returns the message, sets done
 * and the bytes consumed. */
static size_t decode_steps(const char *s, size_t step, char *out, bool *done, size_t *consumed,
                           struct smtp_dot_decoder *dp)
{
    struct smtp_dot_decoder d;
    smtp_dot_decoder_init(&d);
    size_t len = strlen(s), o = 0, i = 0;
    while (i < len && !d.done) {
        size_t n = len - i < step ? len - i : step, used;
        o += smtp_dot_decode(&d, s + i, n, out + o, &used);
        i += used;
    }
    *done = d.done;
    *consumed = i;
    *dp = d;
    out[o] = '\0';
    return o;
}

/* check_bare - as check, and the bare LF / bare CR flags it must set. */
static void check_bare(const char *wire, const char *message, bool done, size_t consumed, bool lf,
                       bool cr)
{
    for (size_t step = 1; step <= strlen(wire) + 1; step++) {
        char out[256];
        bool d;
        size_t used;
        struct smtp_dot_decoder dec;
        decode_steps(wire, step, out, &d, &used, &dec);
        assert_string_equal(out, message);
        assert_int_equal(d, done);
        assert_int_equal(used, consumed);
        assert_int_equal(dec.bare_lf, lf);
        assert_int_equal(dec.bare_cr, cr);
    }
}

static void check(const char *wire, const char *message, bool done, size_t consumed)
{
    check_bare(wire, message, done, consumed, false, false);
}

static void test_decode(void **state)
{
    (void)state;
    check("Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\r\n\r\nbody\r\n", true, 23);
    check("a\r\n..b\r\n.\r\nNEXT", "a\r\n.b\r\n", true, 11); /* unstuffed; stops at the end */
    check("a\r\n...\r\n.\r\n", "a\r\n..\r\n", true, 11);
    check(".\r\n", "", true, 3);                  /* empty message */
    check("a\r\n.x\r\n", "a\r\nx\r\n", false, 7); /* not the end: unstuffed */
    check_bare("a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", true, 11, false,
               true); /* ".\r" not followed by LF: a bare CR */
    check("no end yet\r\n", "no end yet\r\n", false, 12);
    check("x.\r\n.\r\n", "x.\r\n", true, 7); /* a period inside a line */
}

/* Only <CR><LF>.<CR><LF> ends the message (SMTP smuggling): every other
 * combination of bare CR, bare LF and CRLF around the period is data, and
 * flagged so that the proxy refuses the message. */
static void test_decode_smuggling(void **state)
{
    (void)state;
    check_bare("a\n.\nMAIL\r\n", "a\n.\nMAIL\r\n", false, 10, true, false);
    check_bare("a\n.\r\nMAIL\r\n", "a\n.\r\nMAIL\r\n", false, 11, true, false);
    check_bare("a\r\n.\nMAIL\r\n", "a\r\n\nMAIL\r\n", false, 11, true, false);
    check_bare("a\r.\r\nMAIL\r\n", "a\r.\r\nMAIL\r\n", false, 11, false, true);
    check_bare("a\r\n.\rMAIL\r\n", "a\r\n\rMAIL\r\n", false, 11, false, true);
    check_bare("a\r.\rMAIL\r\n", "a\r.\rMAIL\r\n", false, 10, false, true);
    check_bare("a\n.\rMAIL\r\n", "a\n.\rMAIL\r\n", false, 10, true, true);
    check_bare("a\r.\nMAIL\r\n", "a\r.\nMAIL\r\n", false, 10, true, true);
    /* Inside a line, and the real end after them. */
    check_bare("x\ny\r\n.\r\n", "x\ny\r\n", true, 8, true, false);
    check_bare("x\ry\r\n.\r\n", "x\ry\r\n", true, 8, false, true);
    check_bare("x\r\r\n.\r\n", "x\r\r\n", true, 7, false, true);
    /* A period after a bare LF is not stuffing: kept. */
    check_bare("a\n..\r\n.\r\n", "a\n..\r\n", true, 9, true, false);
}

static void test_encode_end_after_bare_lf(void **state)
{
    (void)state;
    /* A message that ends with a bare LF gets a CRLF before the end line,
     * and a period after a bare LF is stuffed. */
    struct smtp_dot_encoder e;
    smtp_dot_encoder_init(&e);
    char out[64], end[5];
    size_t used, n = smtp_dot_encode(&e, "a\n.\n", 4, out, sizeof(out), &used);
    size_t k = smtp_dot_end(&e, end);
    memcpy(out + n, end, k);
    out[n + k] = '\0';
    assert_string_equal(out, "a\n..\n\r\n.\r\n");
}

static void test_encode(void **state)
{
    (void)state;
    struct smtp_dot_encoder e;
    smtp_dot_encoder_init(&e);
    const char *m = ".a\r\nb\r\n.\r\n..\r\nc";
    char out[64], end[5];
    size_t used, n = smtp_dot_encode(&e, m, strlen(m), out, sizeof(out), &used);
    assert_int_equal(used, strlen(m));
    size_t k = smtp_dot_end(&e, end);
    memcpy(out + n, end, k);
    out[n + k] = '\0';
    assert_string_equal(out, "..a\r\nb\r\n..\r\n...\r\nc\r\n.\r\n");
    /* A message that ends with a line end gets only the end line. */
    smtp_dot_encoder_init(&e);
    n = smtp_dot_encode(&e, "x\r\n", 3, out, sizeof(out), &used);
    assert_int_equal(smtp_dot_end(&e, end), 3);
    /* Too little room: takes what fits, never half a stuffed period. */
    smtp_dot_encoder_init(&e);
    n = smtp_dot_encode(&e, ".", 1, out, 1, &used);
    assert_int_equal(n, 0);
    assert_int_equal(used, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_smuggling),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_end_after_bare_lf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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
static size_t decode_steps(const char *s, size_t step, char *out, bool *done, size_t *consumed)
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
    out[o] = '\0';
    return o;
}

static void check(const char *wire, const char *message, bool done, size_t consumed)
{
    for (size_t step = 1; step <= strlen(wire) + 1; step++) {
        char out[256];
        bool d;
        size_t used;
        decode_steps(wire, step, out, &d, &used);
        assert_string_equal(out, message);
        assert_int_equal(d, done);
        assert_int_equal(used, consumed);
    }
}

static void test_decode(void **state)
{
    (void)state;
    check("Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\r\n\r\nbody\r\n", true, 23);
    check("a\r\n..b\r\n.\r\nNEXT", "a\r\n.b\r\n", true, 11); /* unstuffed; stops at the end */
    check("a\r\n...\r\n.\r\n", "a\r\n..\r\n", true, 11);
    check(".\r\n", "", true, 3);                           /* empty message */
    check("a\n.\n", "a\n", true, 4);                       /* bare LF */
    check("a\r\n.x\r\n", "a\r\nx\r\n", false, 7);          /* not the end: unstuffed */
    check("a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", true, 11); /* ".\r" not followed by LF */
    check("no end yet\r\n", "no end yet\r\n", false, 12);
    check("x.\r\n.\r\n", "x.\r\n", true, 7); /* a period inside a line */
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
        cmocka_unit_test(test_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for proto/progress_record (HTTP-13 progress state file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/progress_record.h"

static const char head[] = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n";

static void fill(struct progress_record *r)
{
    memset(r, 0, sizeof(*r));
    r->state = PROGRESS_CLEAN;
    r->received = 123456789012ull;
    r->expected = 123456789012ull;
    r->started = 1795000000;
    str_copy(r->url, sizeof(r->url), "http://example.test/dl/setup.exe?x=1");
    str_copy(r->content_type, sizeof(r->content_type), "application/octet-stream");
    str_copy(r->detect, sizeof(r->detect), "");
    str_copy(r->error, sizeof(r->error), "");
    r->head = str_make(head, sizeof(head) - 1);
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct progress_record r, back;
    fill(&r);
    char mem[PROGRESS_RECORD_SIZE_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(progress_record_format(&b, &r));
    assert_true(progress_record_parse(buf_rptr(&b), buf_len(&b), &back));
    assert_int_equal(back.state, PROGRESS_CLEAN);
    assert_true(back.received == r.received && back.expected == r.expected);
    assert_int_equal(back.started, r.started);
    assert_string_equal(back.url, r.url);
    assert_string_equal(back.content_type, r.content_type);
    assert_int_equal(back.head.len, sizeof(head) - 1);
    assert_memory_equal(back.head.ptr, head, sizeof(head) - 1);
}

static void test_newlines_cannot_forge_lines(void **state)
{
    (void)state;
    struct progress_record r, back;
    fill(&r);
    r.state = PROGRESS_ERROR;
    str_copy(r.error, sizeof(r.error), "bad\nstate=clean\r\nx");
    char mem[PROGRESS_RECORD_SIZE_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(progress_record_format(&b, &r));
    assert_true(progress_record_parse(buf_rptr(&b), buf_len(&b), &back));
    assert_int_equal(back.state, PROGRESS_ERROR);
    assert_string_equal(back.error, "bad state=clean  x");
}

static void test_all_or_nothing(void **state)
{
    (void)state;
    struct progress_record r;
    fill(&r);
    char mem[100];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_false(progress_record_format(&b, &r));
    assert_int_equal(buf_len(&b), 0);
}

static void test_rejects(void **state)
{
    (void)state;
    struct progress_record r;
    const char *bad[] = {
        "",
        "SEKISHO-PROGRESS 2\n",
        "SEKISHO-PROGRESS 1\nstate=done\n",
        "SEKISHO-PROGRESS 1\nstate=clean\nreceived=x\n",
        /* a leading zero would not re-encode to the same bytes */
        "SEKISHO-PROGRESS 1\nstate=clean\nreceived=01\nexpected=1\nstarted=0\nurl=\ntype=\n"
        "detect=\nerror=\nhead=0\n",
        "SEKISHO-PROGRESS 1\nstate=clean\nexpected=1\nreceived=1\nstarted=0\nurl=\ntype=\n"
        "detect=\nerror=\nhead=0\n",
        "SEKISHO-PROGRESS 1\nstate=clean\nreceived=1\nexpected=1\nstarted=0\nurl=\ntype=\n"
        "detect=\nerror=\nhead=3\nab",
        "SEKISHO-PROGRESS 1\nstate=clean\nreceived=1\nexpected=1\nstarted=0\nurl=\ntype=\n"
        "detect=\nerror=\nhead=99999\n",
        "SEKISHO-PROGRESS 1\nstate=clean\nreceived=1\nexpected=1\nstarted=0\nurl=\ntype=\n"
        "detect=\nerror=\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(progress_record_parse(bad[i], strlen(bad[i]), &r));
    const char good[] = "SEKISHO-PROGRESS 1\nstate=scanning\nreceived=1\nexpected=0\nstarted=0\n"
                        "url=u\ntype=\ndetect=\nerror=\nhead=2\nab";
    assert_true(progress_record_parse(good, sizeof(good) - 1, &r));
    assert_int_equal(r.state, PROGRESS_SCANNING);
    assert_int_equal(r.head.len, 2);
    /* one byte too long for the URL */
    char big[PROGRESS_RECORD_SIZE_MAX];
    int n = snprintf(big, sizeof(big),
                     "SEKISHO-PROGRESS 1\nstate=clean\nreceived=1\nexpected=1\n"
                     "started=0\nurl=%0*d\ntype=\ndetect=\nerror=\nhead=0\n",
                     PROGRESS_RECORD_URL_MAX + 1, 0);
    assert_false(progress_record_parse(big, (size_t)n, &r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_newlines_cannot_forge_lines),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

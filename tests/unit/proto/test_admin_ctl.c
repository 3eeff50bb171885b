/* Unit tests for proto/admin_ctl: the wire format between the console's
 * web process (run_user) and its root controller. The controller trusts
 * nothing the web process sends, so every request frame is checked
 * exhaustively: each of the 2^24 (op, arg, verb) combinations decodes
 * exactly when the table below (written from docs/internals/admin.md, not
 * from the code) allows it, and encodes back to the same 8 bytes. The
 * numbers are the contract between two processes of possibly different
 * builds, so they are spelled out here. Replies round-trip with every
 * status and text length, long texts keep their tail, and every way a
 * frame can be wrong (magic, reserved byte, op, length, trailing bytes,
 * NUL in the text) is refused. Frames are heap copies of exactly their
 * length (ASan sees a read past the end). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/admin_ctl.h"

/* The wire numbers (they must never shift). */
enum {
    OP_WRITE = 1,
    OP_SERVICE = 2,
    OP_DBUPDATE = 3,
    OP_AUTOUPDATE = 4,
    OP_DIAG = 5,
    OP_READ = 6,
    OP_NAT = 7,
};
enum { V_NONE, V_START, V_STOP, V_RESTART, V_STATUS, V_ON, V_OFF, V_RELOAD };
#define FILES    12
#define SERVICES 5
#define PROXIES  4 /* http, smtp, pop, ftp: the services a NAT rule may name */

static bool expected_valid(unsigned op, unsigned arg, unsigned verb)
{
    switch (op) {
    case OP_WRITE:
    case OP_READ:
        return arg < FILES && verb == V_NONE;
    case OP_SERVICE:
        return arg < SERVICES && (verb == V_START || verb == V_STOP || verb == V_RESTART ||
                                  verb == V_STATUS || verb == V_RELOAD);
    case OP_AUTOUPDATE:
        return arg == 0 && (verb == V_ON || verb == V_OFF || verb == V_STATUS);
    case OP_NAT:
        /* on/off one proxy (never scand, which has no port); status of all */
        return ((verb == V_ON || verb == V_OFF) && arg < PROXIES) || (verb == V_STATUS && arg == 0);
    case OP_DBUPDATE:
    case OP_DIAG:
        return arg == 0 && verb == V_NONE;
    default:
        return false;
    }
}

static bool decode_request_n(const unsigned char *in, size_t len, struct admin_ctl_request *rq)
{
    unsigned char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, in, len);
    bool ok = admin_ctl_decode_request(copy, len, rq);
    free(copy);
    return ok;
}

static bool decode_reply_n(const unsigned char *in, size_t len, struct admin_ctl_reply *rp)
{
    unsigned char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, in, len);
    bool ok = admin_ctl_decode_reply(copy, len, rp);
    free(copy);
    return ok;
}

static void test_names(void **state)
{
    (void)state;
    static const char *const files[FILES] = {"sekisho.ini",
                                             "hosts.allow",
                                             "spam/custom.txt",
                                             "pam/userdb.txt",
                                             "sekisho.htdigest",
                                             "template_http.html",
                                             "template_http_error.html",
                                             "template_http_progress.html",
                                             "template_smtp.txt",
                                             "template_smtp_lan.txt",
                                             "template_pop.txt",
                                             "template_admin.txt"};
    assert_int_equal(ADMIN_FILE_COUNT, FILES);
    for (unsigned i = 0; i < FILES; i++) {
        assert_string_equal(admin_ctl_file_path(i), files[i]);
        /* relative, below conf/, no way up */
        assert_true(files[i][0] != '/' && strstr(admin_ctl_file_path(i), "..") == NULL);
    }
    assert_null(admin_ctl_file_path(FILES));
    assert_null(admin_ctl_file_path(UINT_MAX));
    static const char *const svcs[SERVICES] = {"http", "smtp", "pop", "ftp", "scand"};
    assert_int_equal(ADMIN_SVC_COUNT, SERVICES);
    for (unsigned i = 0; i < SERVICES; i++)
        assert_string_equal(admin_ctl_service_name(i), svcs[i]);
    assert_null(admin_ctl_service_name(SERVICES));
    static const char *const verbs[] = {NULL,     "start", "stop", "restart",
                                        "status", "on",    "off",  "reload"};
    for (unsigned i = 0; i < 8; i++) {
        if (verbs[i] == NULL)
            assert_null(admin_ctl_verb_name(i));
        else
            assert_string_equal(admin_ctl_verb_name(i), verbs[i]);
    }
    assert_null(admin_ctl_verb_name(8));
    assert_null(admin_ctl_verb_name(UINT_MAX));
    assert_int_equal(ADMIN_CTL_WRITE_FILE, OP_WRITE);
    assert_int_equal(ADMIN_CTL_SERVICE, OP_SERVICE);
    assert_int_equal(ADMIN_CTL_DBUPDATE, OP_DBUPDATE);
    assert_int_equal(ADMIN_CTL_AUTOUPDATE, OP_AUTOUPDATE);
    assert_int_equal(ADMIN_CTL_DIAG, OP_DIAG);
    assert_int_equal(ADMIN_CTL_READ_FILE, OP_READ);
    assert_int_equal(ADMIN_CTL_NAT, OP_NAT);
    assert_int_equal(ADMIN_CTL_OP_END, 8);
}

/* Every (op, arg, verb) byte triple: decode, validity, re-encode. */
static void test_request_exhaustive(void **state)
{
    (void)state;
    unsigned char frame[ADMIN_CTL_REQUEST_LEN] = {'S', 'K', 'A', '1', 0, 0, 0, 0};
    unsigned valid = 0;
    for (unsigned op = 0; op < 256; op++)
        for (unsigned arg = 0; arg < 256; arg++)
            for (unsigned verb = 0; verb < 256; verb++) {
                frame[4] = (unsigned char)op;
                frame[5] = (unsigned char)arg;
                frame[6] = (unsigned char)verb;
                struct admin_ctl_request rq;
                bool want = expected_valid(op, arg, verb);
                bool got = admin_ctl_decode_request(frame, sizeof(frame), &rq);
                if (got != want)
                    fail_msg("op %u arg %u verb %u: decoded %d, expected %d", op, arg, verb, got,
                             want);
                if (!got)
                    continue;
                valid++;
                assert_int_equal(rq.op, op);
                assert_int_equal(rq.arg, arg);
                assert_int_equal(rq.verb, verb);
                assert_true(admin_ctl_request_valid(&rq));
                unsigned char again[ADMIN_CTL_REQUEST_LEN];
                memset(again, 0xee, sizeof(again));
                assert_int_equal(admin_ctl_encode_request(&rq, again), ADMIN_CTL_REQUEST_LEN);
                assert_memory_equal(again, frame, sizeof(frame));
            }
    /* 12 files x 2 ops + 5 services x 5 verbs + 3 autoupdate + dbupdate + diag
     * + NAT on/off x 4 proxies + NAT status */
    assert_int_equal(valid, 24 + 25 + 3 + 1 + 1 + 8 + 1);
}

static void test_request_refused(void **state)
{
    (void)state;
    static const unsigned char good[8] = {'S', 'K', 'A', '1', OP_SERVICE, 0, V_RESTART, 0};
    struct admin_ctl_request rq;
    assert_true(decode_request_n(good, 8, &rq));
    assert_int_equal(rq.op, ADMIN_CTL_SERVICE);
    assert_int_equal(rq.arg, ADMIN_SVC_HTTP);
    assert_int_equal(rq.verb, ADMIN_VERB_RESTART);
    /* every other length: short frames, a trailing byte or more */
    unsigned char longer[64];
    memset(longer, 0, sizeof(longer));
    memcpy(longer, good, 8);
    for (size_t len = 0; len < sizeof(longer); len++)
        if (len != 8)
            assert_false(decode_request_n(longer, len, &rq));
    /* each magic byte wrong, the reply magic, the reserved byte set */
    for (size_t i = 0; i < 4; i++)
        for (unsigned v = 0; v < 256; v++) {
            unsigned char f[8];
            memcpy(f, good, 8);
            if (v == good[i])
                continue;
            f[i] = (unsigned char)v;
            assert_false(decode_request_n(f, 8, &rq));
        }
    for (unsigned v = 1; v < 256; v++) {
        unsigned char f[8];
        memcpy(f, good, 8);
        f[7] = (unsigned char)v;
        assert_false(decode_request_n(f, 8, &rq));
    }
    /* the encoder refuses what the decoder would: nothing is written */
    const struct admin_ctl_request bad[] = {
        {.op = 0},
        {.op = ADMIN_CTL_OP_END},
        {.op = (enum admin_ctl_op)255},
        {.op = ADMIN_CTL_WRITE_FILE, .arg = ADMIN_FILE_COUNT},
        {.op = ADMIN_CTL_WRITE_FILE, .arg = 256}, /* would wrap to 0 in a byte */
        {.op = ADMIN_CTL_WRITE_FILE, .arg = ADMIN_FILE_INI, .verb = ADMIN_VERB_START},
        {.op = ADMIN_CTL_READ_FILE, .arg = ADMIN_FILE_COUNT + 256},
        {.op = ADMIN_CTL_SERVICE, .arg = ADMIN_SVC_HTTP, .verb = ADMIN_VERB_NONE},
        {.op = ADMIN_CTL_SERVICE, .arg = ADMIN_SVC_HTTP, .verb = ADMIN_VERB_ON},
        {.op = ADMIN_CTL_SERVICE, .arg = ADMIN_SVC_COUNT, .verb = ADMIN_VERB_START},
        {.op = ADMIN_CTL_SERVICE, .arg = 256 + ADMIN_SVC_HTTP, .verb = ADMIN_VERB_START},
        {.op = ADMIN_CTL_SERVICE, .arg = ADMIN_SVC_HTTP, .verb = 256 + ADMIN_VERB_START},
        {.op = ADMIN_CTL_AUTOUPDATE, .verb = ADMIN_VERB_RESTART},
        {.op = ADMIN_CTL_AUTOUPDATE, .arg = 1, .verb = ADMIN_VERB_ON},
        {.op = ADMIN_CTL_DBUPDATE, .arg = 1},
        {.op = ADMIN_CTL_DIAG, .verb = ADMIN_VERB_START},
        {.op = ADMIN_CTL_NAT, .arg = ADMIN_SVC_SCAND, .verb = ADMIN_VERB_ON},
        {.op = ADMIN_CTL_NAT, .arg = ADMIN_SVC_COUNT, .verb = ADMIN_VERB_OFF},
        {.op = ADMIN_CTL_NAT, .arg = 256 + ADMIN_SVC_HTTP, .verb = ADMIN_VERB_ON},
        {.op = ADMIN_CTL_NAT, .arg = ADMIN_SVC_SMTP, .verb = ADMIN_VERB_STATUS},
        {.op = ADMIN_CTL_NAT, .arg = ADMIN_SVC_HTTP, .verb = ADMIN_VERB_NONE},
        {.op = ADMIN_CTL_NAT, .arg = ADMIN_SVC_HTTP, .verb = ADMIN_VERB_RESTART},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char out[ADMIN_CTL_REQUEST_LEN];
        memset(out, 0xee, sizeof(out));
        if (admin_ctl_request_valid(&bad[i]))
            fail_msg("bad[%zu] taken as valid", i);
        assert_int_equal(admin_ctl_encode_request(&bad[i], out), 0);
        for (size_t j = 0; j < sizeof(out); j++)
            assert_int_equal(out[j], 0xee);
    }
}

static void reply_round_trip(enum admin_ctl_op op, int status, const char *text, size_t len)
{
    unsigned char *frame = malloc(ADMIN_CTL_REPLY_MAX);
    assert_non_null(frame);
    size_t n = admin_ctl_encode_reply(op, status, text, len, frame);
    size_t kept = len > ADMIN_CTL_TEXT_MAX ? ADMIN_CTL_TEXT_MAX : len;
    assert_int_equal(n, 12 + kept);
    assert_memory_equal(frame, "SKB1", 4);
    assert_int_equal(frame[4], op);
    assert_int_equal(frame[5], 0);
    /* big-endian status and length */
    uint32_t s = (uint32_t)status;
    assert_int_equal(frame[6], s >> 24);
    assert_int_equal(frame[9], s & 0xff);
    assert_int_equal(frame[10] << 8 | frame[11], kept);
    struct admin_ctl_reply *rp = malloc(sizeof(*rp));
    assert_non_null(rp);
    assert_true(decode_reply_n(frame, n, rp));
    assert_int_equal(rp->op, op);
    assert_int_equal(rp->status, status);
    assert_int_equal(rp->text_len, kept);
    /* the tail of a long text: what says why a command failed */
    assert_memory_equal(rp->text, text + (len - kept), kept);
    assert_int_equal(rp->text[kept], 0);
    free(rp);
    free(frame);
}

static void test_reply_round_trip(void **state)
{
    (void)state;
    static const int statuses[] = {
        0, 1, 2, 127, 255, ADMIN_CTL_REFUSED, ADMIN_CTL_FAILED, INT_MAX, INT_MIN, 0x01020304};
    char *text = malloc(ADMIN_CTL_TEXT_MAX * 2 + 1);
    assert_non_null(text);
    for (size_t i = 0; i < ADMIN_CTL_TEXT_MAX * 2; i++)
        text[i] = (char)('A' + i % 26);
    text[ADMIN_CTL_TEXT_MAX * 2] = 0;
    for (unsigned op = 1; op < ADMIN_CTL_OP_END; op++)
        for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
            reply_round_trip((enum admin_ctl_op)op, statuses[i], "", 0);
    static const size_t lens[] = {1, 2, 255, 256, 257, 3999, 4000, 4001, 4096, 5000, 7999, 8000};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        reply_round_trip(ADMIN_CTL_SERVICE, 1, text, lens[i]);
    /* a NULL text of no length */
    unsigned char frame[ADMIN_CTL_REPLY_MAX];
    assert_int_equal(admin_ctl_encode_reply(ADMIN_CTL_DIAG, 0, NULL, 0, frame), 12);
    /* text bytes as they are: UTF-8, line ends, high bytes */
    static const char mixed[] = "rc.sekisho_http: \xe8\xb5\xb7\xe5\x8b\x95\r\n[FAILED]\t\xff\x01";
    reply_round_trip(ADMIN_CTL_SERVICE, 3, mixed, sizeof(mixed) - 1);
    /* the encoder refuses ops that do not exist */
    assert_int_equal(admin_ctl_encode_reply((enum admin_ctl_op)0, 0, "x", 1, frame), 0);
    assert_int_equal(admin_ctl_encode_reply(ADMIN_CTL_OP_END, 0, "x", 1, frame), 0);
    assert_int_equal(admin_ctl_encode_reply((enum admin_ctl_op) - 1, 0, "x", 1, frame), 0);
    free(text);
}

static void test_reply_refused(void **state)
{
    (void)state;
    unsigned char good[ADMIN_CTL_REPLY_MAX];
    assert_int_equal(admin_ctl_encode_reply(ADMIN_CTL_SERVICE, 0, "hello", 5, good), 17);
    struct admin_ctl_reply *rp = malloc(sizeof(*rp));
    assert_non_null(rp);
    assert_true(decode_reply_n(good, 17, rp));
    assert_string_equal(rp->text, "hello");
    /* every length but the right one (shorter, longer: trailing bytes) */
    unsigned char longer[64];
    memset(longer, 'x', sizeof(longer));
    memcpy(longer, good, 17);
    for (size_t len = 0; len < sizeof(longer); len++)
        if (len != 17)
            assert_false(decode_reply_n(longer, len, rp));
    unsigned char f[17];
    /* magic: each byte, and the request magic */
    for (size_t i = 0; i < 4; i++) {
        memcpy(f, good, 17);
        f[i] ^= 0x20;
        assert_false(decode_reply_n(f, 17, rp));
    }
    memcpy(f, good, 17);
    memcpy(f, "SKA1", 4);
    assert_false(decode_reply_n(f, 17, rp));
    /* op 0 and ops past the end; the reserved byte */
    for (unsigned op = 0; op < 256; op++) {
        memcpy(f, good, 17);
        f[4] = (unsigned char)op;
        assert_int_equal(decode_reply_n(f, 17, rp), op >= 1 && op < ADMIN_CTL_OP_END);
    }
    for (unsigned v = 1; v < 256; v++) {
        memcpy(f, good, 17);
        f[5] = (unsigned char)v;
        assert_false(decode_reply_n(f, 17, rp));
    }
    /* a NUL anywhere in the text */
    for (size_t i = 12; i < 17; i++) {
        memcpy(f, good, 17);
        f[i] = 0;
        assert_false(decode_reply_n(f, 17, rp));
    }
    /* a text length past the maximum, even with the bytes there */
    size_t big = 12 + ADMIN_CTL_TEXT_MAX + 1;
    unsigned char *b = malloc(big);
    assert_non_null(b);
    memset(b, 'y', big);
    memcpy(b, "SKB1", 4);
    b[4] = ADMIN_CTL_DIAG;
    b[5] = 0;
    memset(b + 6, 0, 4);
    b[10] = (unsigned char)((ADMIN_CTL_TEXT_MAX + 1) >> 8);
    b[11] = (unsigned char)(ADMIN_CTL_TEXT_MAX + 1);
    assert_false(decode_reply_n(b, big, rp));
    /* the maximum itself is fine */
    b[10] = (unsigned char)(ADMIN_CTL_TEXT_MAX >> 8);
    b[11] = (unsigned char)ADMIN_CTL_TEXT_MAX;
    assert_true(decode_reply_n(b, big - 1, rp));
    assert_int_equal(rp->text_len, ADMIN_CTL_TEXT_MAX);
    /* 0xffff claimed, few bytes sent */
    b[10] = b[11] = 0xff;
    assert_false(decode_reply_n(b, big, rp));
    assert_false(decode_reply_n(b, 12, rp));
    free(b);
    /* a request frame is not a reply and a reply frame not a request */
    unsigned char rqf[ADMIN_CTL_REQUEST_LEN];
    struct admin_ctl_request rq = {.op = ADMIN_CTL_DIAG};
    assert_int_equal(admin_ctl_encode_request(&rq, rqf), 8);
    assert_false(decode_reply_n(rqf, 8, rp));
    assert_false(decode_request_n(good, 8, &rq));
    free(rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),           cmocka_unit_test(test_request_exhaustive),
        cmocka_unit_test(test_request_refused), cmocka_unit_test(test_reply_round_trip),
        cmocka_unit_test(test_reply_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for proto/scanreq: round trips, every truncation, corruption
 * (SCAN, RELOAD and VERSION), riskware pattern matching and the ClamAV PUA
 * name mapping table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/scanreq.h"

static struct scanreq_request sample_request(void)
{
    struct scanreq_request r;
    memset(&r, 0, sizeof(r));
    r.type = SCANREQ_T_SCAN;
    r.id = 0x0102030405060708ull;
    r.service = SCANREQ_SVC_SMTP;
    r.flags = SCANREQ_RF_RISKWARE | SCANREQ_RF_BLOCK_MAXNESTED;
    r.timeout_ms = 90000;
    str_copy(r.patterns, sizeof(r.patterns), "Client-IRC.*.*;Tool.Win32.NetCat");
    str_copy(r.filename, sizeof(r.filename), "invoice.zip");
    return r;
}

static struct scanreq_reply sample_reply(void)
{
    struct scanreq_reply r;
    memset(&r, 0, sizeof(r));
    r.type = SCANREQ_T_SCAN;
    r.id = 42;
    r.verdict = SCANREQ_INFECTED;
    r.details = SCANREQ_VSD_ENCRYPTED | SCANREQ_VSD_SCANTIMEOUT;
    r.scan_us = 123456789ull;
    r.engine_id = 0x0123456789abcdefull;
    str_copy(r.name, sizeof(r.name), "Eicar-Test-Signature");
    return r;
}

static struct scanreq_version sample_version(void)
{
    static struct scanreq_version v; /* 6 KB: not on the test's stack */
    memset(&v, 0, sizeof(v));
    v.id = 11;
    v.engine_id = 0xfedcba9876543211ull;
    v.loaded_at = 1796544000; /* 2026-12-06 */
    v.signatures = 8708677;
    str_copy(v.libclamav, sizeof(v.libclamav), "1.4.6");
    v.count = 2;
    str_copy(v.dbs[0].name, sizeof(v.dbs[0].name), "daily.cvd");
    v.dbs[0].version = 27463;
    v.dbs[0].signatures = 2076543;
    v.dbs[0].built = 1796545320;
    str_copy(v.dbs[1].name, sizeof(v.dbs[1].name), "custom.ndb");
    v.dbs[1].signatures = 12;
    v.dbs[1].built = -86400; /* an mtime before 1970 travels as it is */
    return v;
}

static void test_request_round_trip(void **state)
{
    (void)state;
    char mem[SCANREQ_REQUEST_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct scanreq_request in = sample_request(), out;
    assert_true(scanreq_encode_request(&b, &in));
    size_t n = 0;
    assert_int_equal(scanreq_decode_request(buf_rptr(&b), buf_len(&b), &out, &n), SCANREQ_DONE);
    assert_int_equal(n, buf_len(&b));
    assert_int_equal(out.type, SCANREQ_T_SCAN);
    assert_true(out.id == in.id);
    assert_int_equal(out.service, SCANREQ_SVC_SMTP);
    assert_int_equal(out.flags, in.flags);
    assert_int_equal(out.timeout_ms, 90000);
    assert_string_equal(out.patterns, in.patterns);
    assert_string_equal(out.filename, "invoice.zip");

    /* RELOAD carries only its id. */
    struct scanreq_request rl;
    memset(&rl, 0, sizeof(rl));
    rl.type = SCANREQ_T_RELOAD;
    rl.id = 7;
    buf_reset(&b);
    assert_true(scanreq_encode_request(&b, &rl));
    assert_int_equal(buf_len(&b), SCANREQ_HEADER_LEN + 8);
    assert_int_equal(scanreq_decode_request(buf_rptr(&b), buf_len(&b), &out, &n), SCANREQ_DONE);
    assert_int_equal(out.type, SCANREQ_T_RELOAD);
    assert_true(out.id == 7);

    /* So does VERSION. */
    rl.type = SCANREQ_T_VERSION;
    rl.id = 8;
    buf_reset(&b);
    assert_true(scanreq_encode_request(&b, &rl));
    assert_int_equal(buf_len(&b), SCANREQ_HEADER_LEN + 8);
    assert_int_equal((unsigned char)mem[5], SCANREQ_T_VERSION);
    assert_int_equal(scanreq_decode_request(buf_rptr(&b), buf_len(&b), &out, &n), SCANREQ_DONE);
    assert_int_equal(out.type, SCANREQ_T_VERSION);
    assert_true(out.id == 8);
    /* A body longer than an id is refused from the header on. */
    mem[11] = 9;
    assert_int_equal(scanreq_decode_request(buf_rptr(&b), SCANREQ_HEADER_LEN, &out, &n),
                     SCANREQ_INVALID);
}

static void test_request_limits(void **state)
{
    (void)state;
    char mem[SCANREQ_REQUEST_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    /* Longest legal strings: the frame is exactly SCANREQ_REQUEST_MAX. */
    struct scanreq_request in = sample_request(), out;
    memset(in.patterns, 'a', SCANREQ_PATTERNS_MAX);
    in.patterns[SCANREQ_PATTERNS_MAX] = '\0';
    memset(in.filename, 'f', SCANREQ_FILENAME_MAX);
    in.filename[SCANREQ_FILENAME_MAX] = '\0';
    assert_true(scanreq_encode_request(&b, &in));
    assert_int_equal(buf_len(&b), SCANREQ_REQUEST_MAX);
    size_t n;
    assert_int_equal(scanreq_decode_request(buf_rptr(&b), buf_len(&b), &out, &n), SCANREQ_DONE);
    assert_int_equal(strlen(out.patterns), SCANREQ_PATTERNS_MAX);
    /* Too small a buffer: false and untouched. */
    struct buf small;
    char smem[100];
    buf_init(&small, smem, sizeof(smem));
    assert_false(scanreq_encode_request(&small, &in));
    assert_int_equal(buf_len(&small), 0);
    /* Unknown flag bits and services are refused by the encoder. */
    in = sample_request();
    in.flags |= 1u << 9;
    buf_reset(&b);
    assert_false(scanreq_encode_request(&b, &in));
    in = sample_request();
    in.service = (enum scanreq_service)9;
    assert_false(scanreq_encode_request(&b, &in));
    in = sample_request();
    in.encoding = 0x50; /* not canonical: no first layer, no coding 5 */
    assert_false(scanreq_encode_request(&b, &in));
    assert_int_equal(buf_len(&b), 0);
    in.encoding = SCANREQ_ENC_UNDECODABLE;
    assert_true(scanreq_encode_request(&b, &in));
}

static void test_reply_round_trip(void **state)
{
    (void)state;
    char mem[SCANREQ_REPLY_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct scanreq_reply in = sample_reply(), out;
    assert_true(scanreq_encode_reply(&b, &in));
    size_t n;
    assert_int_equal(scanreq_decode_reply(buf_rptr(&b), buf_len(&b), &out, &n), SCANREQ_DONE);
    assert_int_equal(n, buf_len(&b));
    assert_true(out.id == 42);
    assert_int_equal(out.verdict, SCANREQ_INFECTED);
    assert_int_equal(out.details, in.details);
    assert_true(out.scan_us == 123456789ull);
    assert_true(out.engine_id == 0x0123456789abcdefull);
    assert_string_equal(out.name, "Eicar-Test-Signature");
    assert_string_equal(out.error, "");

    struct scanreq_reply rl;
    memset(&rl, 0, sizeof(rl));
    rl.type = SCANREQ_T_RELOAD;
    rl.id = 9;
    rl.reload_ok = false;
    rl.signatures = 1400001;
    str_copy(rl.error, sizeof(rl.error), "databases/x.ndb: malformed database");
    buf_reset(&b);
    assert_true(scanreq_encode_reply(&b, &rl));
    assert_int_equal(scanreq_decode_reply(buf_rptr(&b), buf_len(&b), &out, &n), SCANREQ_DONE);
    assert_int_equal(out.type, SCANREQ_T_RELOAD);
    assert_false(out.reload_ok);
    assert_true(out.signatures == 1400001);
    assert_string_equal(out.error, rl.error);
}

/* Every strict prefix of a valid frame is AGAIN with a positive need that
 * never overshoots the real frame; feeding exactly "need" more bytes at
 * a time reaches DONE. */
static void test_truncated_every_length(void **state)
{
    (void)state;
    char mem[SCANREQ_REQUEST_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct scanreq_request in = sample_request(), out;
    assert_true(scanreq_encode_request(&b, &in));
    size_t total = buf_len(&b), n;
    for (size_t len = 0; len < total; len++) {
        assert_int_equal(scanreq_decode_request(mem, len, &out, &n), SCANREQ_AGAIN);
        assert_true(n > 0);
        assert_true(len + n <= total);
    }
    size_t have = 0, steps = 0;
    while (scanreq_decode_request(mem, have, &out, &n) == SCANREQ_AGAIN) {
        have += n;
        steps++;
    }
    assert_int_equal(have, total);
    assert_true(steps <= 2);

    char rmem[SCANREQ_REPLY_MAX];
    struct buf rb;
    buf_init(&rb, rmem, sizeof(rmem));
    struct scanreq_reply rin = sample_reply(), rout;
    assert_true(scanreq_encode_reply(&rb, &rin));
    for (size_t len = 0; len < buf_len(&rb); len++) {
        assert_int_equal(scanreq_decode_reply(rmem, len, &rout, &n), SCANREQ_AGAIN);
        assert_true(n > 0 && len + n <= buf_len(&rb));
    }
}

static void test_corrupted_invalid(void **state)
{
    (void)state;
    char mem[SCANREQ_REQUEST_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct scanreq_request in = sample_request(), out;
    assert_true(scanreq_encode_request(&b, &in));
    size_t total = buf_len(&b), n;
    char copy[SCANREQ_REQUEST_MAX];

    /* Header fields: magic, version, type, reserved, body_len. */
    const size_t header_bytes[] = {0, 3, 4, 5, 6, 7, 8};
    for (size_t i = 0; i < sizeof(header_bytes) / sizeof(header_bytes[0]); i++) {
        memcpy(copy, mem, total);
        copy[header_bytes[i]] ^= 0x40;
        assert_int_equal(scanreq_decode_request(copy, total, &out, &n), SCANREQ_INVALID);
        assert_int_equal(n, 0);
    }
    /* Wrong magic is refused from its first byte on. */
    assert_int_equal(scanreq_decode_request("X", 1, &out, &n), SCANREQ_INVALID);
    /* A reply is not a request. */
    char rmem[SCANREQ_REPLY_MAX];
    struct buf rb;
    buf_init(&rb, rmem, sizeof(rmem));
    struct scanreq_reply rep = sample_reply();
    assert_true(scanreq_encode_reply(&rb, &rep));
    assert_int_equal(scanreq_decode_request(rmem, buf_len(&rb), &out, &n), SCANREQ_INVALID);

    /* Body: service byte, reserved byte, unknown flag, string length. */
    const size_t body = SCANREQ_HEADER_LEN;
    memcpy(copy, mem, total);
    copy[body + 8] = 9; /* service */
    assert_int_equal(scanreq_decode_request(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[body + 9] = 5; /* encoding: no coding 5 */
    assert_int_equal(scanreq_decode_request(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[body + 9] = 0x20; /* encoding: a second layer without a first */
    assert_int_equal(scanreq_decode_request(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[body + 9] = 0x1f; /* encoding: UNDECODABLE is alone */
    assert_int_equal(scanreq_decode_request(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[body + 9] = 0x24; /* encoding: zstd, then deflate */
    assert_int_equal(scanreq_decode_request(copy, total, &out, &n), SCANREQ_DONE);
    assert_int_equal(out.encoding, 0x24);
    memcpy(copy, mem, total);
    copy[body + 10] = (char)0x80; /* flag bit 15 */
    assert_int_equal(scanreq_decode_request(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[body + 17] += 1; /* patterns_len one longer: runs into filename */
    assert_int_equal(scanreq_decode_request(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[body + 18] = '\0'; /* NUL inside the patterns */
    assert_int_equal(scanreq_decode_request(copy, total, &out, &n), SCANREQ_INVALID);

    /* body_len above the maximum is refused before waiting for it. */
    memcpy(copy, mem, SCANREQ_HEADER_LEN);
    copy[8] = 0;
    copy[9] = 0;
    copy[10] = 0x7f;
    copy[11] = 0;
    assert_int_equal(scanreq_decode_request(copy, SCANREQ_HEADER_LEN, &out, &n), SCANREQ_INVALID);

    /* Trailing garbage inside the declared body. */
    memcpy(copy, mem, total);
    copy[11] += 1;
    copy[total] = 'x';
    assert_int_equal(scanreq_decode_request(copy, total + 1, &out, &n), SCANREQ_INVALID);

    /* Two frames back to back: the first is consumed exactly. */
    memcpy(copy, mem, total);
    assert_int_equal(scanreq_decode_request(copy, total, &out, &n), SCANREQ_DONE);
    assert_int_equal(n, total);
}

static void test_reply_corrupted(void **state)
{
    (void)state;
    char mem[SCANREQ_REPLY_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct scanreq_reply in = sample_reply(), out;
    assert_true(scanreq_encode_reply(&b, &in));
    size_t total = buf_len(&b), n;
    char copy[SCANREQ_REPLY_MAX];
    memcpy(copy, mem, total);
    copy[SCANREQ_HEADER_LEN + 8] = 3; /* verdict */
    assert_int_equal(scanreq_decode_reply(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[SCANREQ_HEADER_LEN + 10] = 0x10; /* unknown detail bit */
    assert_int_equal(scanreq_decode_reply(copy, total, &out, &n), SCANREQ_INVALID);
    /* Encoder refuses unknown verdicts and details. */
    in.details = 0x100;
    buf_reset(&b);
    assert_false(scanreq_encode_reply(&b, &in));
}

static void test_version_round_trip(void **state)
{
    (void)state;
    static char mem[SCANREQ_VERSION_REPLY_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct scanreq_version in = sample_version();
    static struct scanreq_version out;
    assert_true(scanreq_encode_version(&b, &in));
    assert_int_equal(buf_len(&b),
                     SCANREQ_HEADER_LEN + 8 * 4 + 2 + 5 + 2 + (2 + 9 + 20) + (2 + 10 + 20));
    assert_int_equal((unsigned char)mem[4], SCANREQ_VERSION);
    assert_int_equal((unsigned char)mem[5], SCANREQ_T_VERSION);
    size_t n;
    assert_int_equal(scanreq_decode_version(mem, buf_len(&b), &out, &n), SCANREQ_DONE);
    assert_int_equal(n, buf_len(&b));
    assert_true(out.id == 11 && out.engine_id == in.engine_id);
    assert_true(out.loaded_at == in.loaded_at && out.signatures == in.signatures);
    assert_string_equal(out.libclamav, "1.4.6");
    assert_int_equal(out.count, 2);
    assert_string_equal(out.dbs[0].name, "daily.cvd");
    assert_int_equal(out.dbs[0].version, 27463);
    assert_true(out.dbs[0].signatures == 2076543 && out.dbs[0].built == 1796545320);
    assert_string_equal(out.dbs[1].name, "custom.ndb");
    assert_int_equal(out.dbs[1].version, 0);
    assert_true(out.dbs[1].built == -86400);

    /* The fullest reply: 64 entries with 64-byte names, the longest
     * libclamav string; it is exactly SCANREQ_VERSION_REPLY_MAX. */
    in.count = DB_VERSION_ENTRIES_MAX;
    memset(in.libclamav, 'v', SCANREQ_LIBCLAMAV_MAX);
    in.libclamav[SCANREQ_LIBCLAMAV_MAX] = '\0';
    for (size_t i = 0; i < in.count; i++) {
        memset(in.dbs[i].name, 'a' + (char)(i % 26), DB_VERSION_NAME_MAX);
        in.dbs[i].name[DB_VERSION_NAME_MAX] = '\0';
        in.dbs[i].version = (uint32_t)i;
        in.dbs[i].signatures = UINT64_MAX - i;
        in.dbs[i].built = INT64_MIN + (int64_t)i;
    }
    buf_reset(&b);
    assert_true(scanreq_encode_version(&b, &in));
    assert_int_equal(buf_len(&b), SCANREQ_VERSION_REPLY_MAX);
    assert_int_equal(scanreq_decode_version(mem, buf_len(&b), &out, &n), SCANREQ_DONE);
    assert_int_equal(out.count, DB_VERSION_ENTRIES_MAX);
    assert_true(out.dbs[63].signatures == UINT64_MAX - 63);
    assert_true(out.dbs[63].built == INT64_MIN + 63);
    assert_int_equal(strlen(out.dbs[63].name), DB_VERSION_NAME_MAX);

    /* Every strict prefix is AGAIN and never asks for more than the frame. */
    for (size_t len = 0; len < buf_len(&b); len += 7) {
        assert_int_equal(scanreq_decode_version(mem, len, &out, &n), SCANREQ_AGAIN);
        assert_true(n > 0 && len + n <= buf_len(&b));
    }

    /* The encoder refuses what the decoder would. */
    struct buf small;
    char smem[64];
    buf_init(&small, smem, sizeof(smem));
    assert_false(scanreq_encode_version(&small, &in)); /* does not fit */
    assert_int_equal(buf_len(&small), 0);
    in.count = DB_VERSION_ENTRIES_MAX + 1;
    buf_reset(&b);
    assert_false(scanreq_encode_version(&b, &in));
    in = sample_version();
    in.dbs[1].name[0] = '\0';
    assert_false(scanreq_encode_version(&b, &in));
    in = sample_version();
    memset(in.libclamav, 'v', sizeof(in.libclamav)); /* no terminator within the limit */
    assert_false(scanreq_encode_version(&b, &in));
    assert_int_equal(buf_len(&b), 0);
}

static void test_version_corrupted(void **state)
{
    (void)state;
    static char mem[SCANREQ_VERSION_REPLY_MAX], copy[SCANREQ_VERSION_REPLY_MAX + 1];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct scanreq_version in = sample_version();
    static struct scanreq_version out;
    assert_true(scanreq_encode_version(&b, &in));
    size_t total = buf_len(&b), n;
    const size_t body = SCANREQ_HEADER_LEN;
    const size_t lib = body + 32, count = lib + 2 + 5, name0 = count + 2;

    /* Not a version reply: the other decoders refuse it, it refuses them. */
    struct scanreq_reply rep;
    assert_int_equal(scanreq_decode_reply(mem, total, &rep, &n), SCANREQ_INVALID);
    struct scanreq_request req;
    assert_int_equal(scanreq_decode_request(mem, total, &req, &n), SCANREQ_INVALID);
    char rmem[SCANREQ_REPLY_MAX];
    struct buf rb;
    buf_init(&rb, rmem, sizeof(rmem));
    struct scanreq_reply scan = sample_reply();
    assert_true(scanreq_encode_reply(&rb, &scan));
    assert_int_equal(scanreq_decode_version(rmem, buf_len(&rb), &out, &n), SCANREQ_INVALID);
    /* ... from the type byte on, without waiting for the body. */
    assert_int_equal(scanreq_decode_reply(mem, 6, &rep, &n), SCANREQ_INVALID);
    assert_int_equal(scanreq_decode_version(rmem, 6, &out, &n), SCANREQ_INVALID);
    /* An old scand's version byte. */
    memcpy(copy, mem, total);
    copy[4] = 2;
    assert_int_equal(scanreq_decode_version(copy, total, &out, &n), SCANREQ_INVALID);
    /* body_len above the maximum. */
    memcpy(copy, mem, SCANREQ_HEADER_LEN);
    copy[10] = 0x7f;
    assert_int_equal(scanreq_decode_version(copy, SCANREQ_HEADER_LEN, &out, &n), SCANREQ_INVALID);
    /* count above 64, count saying more entries than there are, fewer. */
    memcpy(copy, mem, total);
    copy[count] = 0;
    copy[count + 1] = DB_VERSION_ENTRIES_MAX + 1;
    assert_int_equal(scanreq_decode_version(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[count + 1] = 3;
    assert_int_equal(scanreq_decode_version(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[count + 1] = 1;
    assert_int_equal(scanreq_decode_version(copy, total, &out, &n), SCANREQ_INVALID);
    /* An empty name, a NUL in a name, a name over 64 bytes, a libclamav
     * string over 31. */
    memcpy(copy, mem, total);
    copy[name0 + 1] = 0;
    assert_int_equal(scanreq_decode_version(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[name0 + 2 + 3] = '\0';
    assert_int_equal(scanreq_decode_version(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[name0 + 1] = DB_VERSION_NAME_MAX + 1;
    assert_int_equal(scanreq_decode_version(copy, total, &out, &n), SCANREQ_INVALID);
    memcpy(copy, mem, total);
    copy[lib + 1] = SCANREQ_LIBCLAMAV_MAX + 1;
    assert_int_equal(scanreq_decode_version(copy, total, &out, &n), SCANREQ_INVALID);
    /* A byte left over in the body. */
    memcpy(copy, mem, total);
    copy[11] += 1;
    copy[total] = 'x';
    assert_int_equal(scanreq_decode_version(copy, total + 1, &out, &n), SCANREQ_INVALID);
    assert_int_equal(n, 0);
    /* The untouched frame still decodes. */
    assert_int_equal(scanreq_decode_version(mem, total, &out, &n), SCANREQ_DONE);
}

static void test_details_format(void **state)
{
    (void)state;
    char mem[128];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(scanreq_details_format(0, &b));
    assert_int_equal(buf_len(&b), 0);
    assert_true(scanreq_details_format(SCANREQ_VSD_MAXNESTED | SCANREQ_VSD_ENCRYPTED, &b));
    assert_string_equal(buf_cstr(&b), "VSD_ENCRYPTED,VSD_MAXNESTED");
    buf_reset(&b);
    assert_true(scanreq_details_format(SCANREQ_VSD_ALL, &b));
    assert_string_equal(buf_cstr(&b),
                        "VSD_ENCRYPTED,VSD_MAXNESTED,VSD_SCANTIMEOUT,VSD_UNDECODED,VSD_OVERSIZE,"
                        "VSD_MAXFILES");
    char tiny[5];
    struct buf t;
    buf_init(&t, tiny, sizeof(tiny));
    assert_false(scanreq_details_format(SCANREQ_VSD_ENCRYPTED, &t));
    assert_int_equal(buf_len(&t), 0);
}

static void test_riskware_match(void **state)
{
    (void)state;
    struct str name = STR_LIT("Client-IRC.Win32.mIRC");
    assert_true(scanreq_riskware_match(STR_LIT("Client-IRC.*.*"), name));
    assert_true(scanreq_riskware_match(STR_LIT("*.*.*"), name));
    assert_true(scanreq_riskware_match(STR_LIT("Tool.*.*; Client-IRC.Win32.mIRC "), name));
    assert_true(scanreq_riskware_match(STR_LIT("Client-*.Win*.m*C"), name));
    assert_true(scanreq_riskware_match(STR_LIT(";;*.Win32.*;"), name));
    assert_false(scanreq_riskware_match(STR_LIT("client-irc.*.*"), name)); /* case */
    assert_false(scanreq_riskware_match(STR_LIT("Client-IRC.*"), name));   /* 2 parts */
    assert_false(scanreq_riskware_match(STR_LIT("Client-IRC.*.*.*"), name));
    assert_false(scanreq_riskware_match(STR_LIT("Tool.*.*"), name));
    assert_false(scanreq_riskware_match(STR_LIT("Client-IRC.Linux.*"), name));
    assert_false(scanreq_riskware_match(STR_LIT(""), name));
    assert_false(scanreq_riskware_match(STR_LIT("*"), name));
    /* '*' does not cross a component boundary. */
    assert_false(scanreq_riskware_match(STR_LIT("*.mIRC.*"), name));
    assert_false(scanreq_riskware_match(STR_LIT("*.*.*"), STR_LIT("Tool.Win32")));
    assert_true(scanreq_riskware_match(STR_LIT("Tool.Win32.NetCat"), STR_LIT("Tool.Win32.NetCat")));
    assert_false(scanreq_riskware_match(STR_LIT("Tool.Win32.NetCa"), STR_LIT("Tool.Win32.NetCat")));
    assert_true(scanreq_riskware_match(STR_LIT("Tool.Win32.**"), STR_LIT("Tool.Win32.NetCat")));
}

static void test_riskware_from_clamav(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } table[] = {
        {"PUA.Win.Tool.NetCat", "Tool.Win32.NetCat"},
        {"PUA.Win.Packer.Upx-1", "RiskTool.Win32.Upx"},
        {"PUA.Win.Adware.Foo-12345.UNOFFICIAL", "Adware.Win32.Foo"},
        {"PUA.Win.Irc.Mirc-2", "Client-IRC.Win32.Mirc"},
        {"PUA.Unix.Tool.Nmap-3", "Tool.UNIX.Nmap"},
        {"PUA.Doc.Tool.LockedPDF-1", "Tool.Macro.LockedPDF"},
        {"PUA.Js.Spyware.Keys", "Monitor.JS.Keys"},
        {"PUA.Win.Keylogger.Ardamax-7", "Monitor.Win32.Ardamax"},
        {"PUA.Win.Dialer.Porn-1", "Dialer.Win32.Porn"},
        {"PUA.Andr.Adware.Ads-9", "Adware.Andr.Ads"}, /* unknown platform passes */
        {"PUA.Osx.Weird.Thing-1", "Weird.Osx.Thing"}, /* unknown category passes */
        {"PUA.Win.Tool.A.B-4", "Tool.Win32.A_B"},
        {"PUA.Win.Tool.Sekisho-Test-1", "Tool.Win32.Sekisho-Test"},
        {"PUA.Win.Tool.Win-", "Tool.Win32.Win-"},
        {"PUA.Win", "Generic.Win32.Generic"},
        {"PUA.", "Generic.Generic.Generic"},
    };
    char out[SCANREQ_RISKWARE_NAME_MAX + 1];
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        assert_true(scanreq_riskware_from_clamav(table[i].in, out, sizeof(out)));
        assert_string_equal(out, table[i].out);
        /* Mapped names are always matchable by a three-part pattern. */
        assert_true(scanreq_riskware_match(STR_LIT("*.*.*"), str_from_cstr(out)));
    }
    assert_false(scanreq_riskware_from_clamav("Eicar-Test-Signature", out, sizeof(out)));
    assert_string_equal(out, "");
    assert_false(scanreq_riskware_from_clamav("Win.Trojan.PUA-1", out, sizeof(out)));
    char tiny[8];
    assert_false(scanreq_riskware_from_clamav("PUA.Win.Tool.NetCat", tiny, sizeof(tiny)));
    assert_string_equal(tiny, "");
    char exact[sizeof("Tool.Win32.NetCat")];
    assert_true(scanreq_riskware_from_clamav("PUA.Win.Tool.NetCat", exact, sizeof(exact)));
    char one_short[sizeof("Tool.Win32.NetCat") - 1];
    assert_false(scanreq_riskware_from_clamav("PUA.Win.Tool.NetCat", one_short, sizeof(one_short)));
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(scanreq_verdict_name(SCANREQ_INFECTED), "INFECTED");
    assert_string_equal(scanreq_verdict_name((enum scanreq_verdict)7), "VERDICT_???");
    assert_string_equal(scanreq_service_name(SCANREQ_SVC_POP), "pop");
    assert_string_equal(scanreq_type_name(SCANREQ_T_RELOAD), "RELOAD");
    assert_string_equal(scanreq_type_name(SCANREQ_T_VERSION), "VERSION");
    assert_string_equal(scanreq_parse_name(SCANREQ_AGAIN), "AGAIN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip),   cmocka_unit_test(test_request_limits),
        cmocka_unit_test(test_reply_round_trip),     cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_corrupted_invalid),    cmocka_unit_test(test_reply_corrupted),
        cmocka_unit_test(test_version_round_trip),   cmocka_unit_test(test_version_corrupted),
        cmocka_unit_test(test_details_format),       cmocka_unit_test(test_riskware_match),
        cmocka_unit_test(test_riskware_from_clamav), cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

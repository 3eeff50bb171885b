/* Unit tests for proto/mime_decode: base64 and quoted-printable body
 * decoders (RFC 2045), encoded-words (RFC 2047), parameters (RFC 2045,
 * RFC 2231, legacy RFC 2047 file names) and header lookup (RFC 5322).
 * Japanese vectors were produced with iconv(1), independently of the
 * module. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/mime_decode.h"

#define OUT_CAP 8192

/* ---- helpers ---- */

/* b64_all - decode in with the given input chunk and output room per
 * call; returns the NUL-terminated result in static storage. */
static char result[OUT_CAP + 1];
static size_t result_len;

static const char *b64_all(const char *in, size_t chunk, size_t room, size_t *garbage)
{
    struct mime_b64 d;
    mime_b64_init(&d);
    size_t len = strlen(in), pos = 0, n = 0;
    while (pos < len) {
        size_t take = len - pos < chunk ? len - pos : chunk, used;
        size_t cap = OUT_CAP - n < room ? OUT_CAP - n : room;
        n += mime_b64_decode(&d, in + pos, take, result + n, cap, &used);
        assert_true(used <= take);
        pos += used;
    }
    size_t w;
    while ((w = mime_b64_finish(&d, result + n, room < OUT_CAP - n ? room : OUT_CAP - n)) > 0)
        n += w;
    result[n] = '\0';
    result_len = n;
    if (garbage)
        *garbage = d.garbage;
    return result;
}

static const char *qp_all(const char *in, size_t chunk, size_t room, size_t *invalid)
{
    struct mime_qp d;
    mime_qp_init(&d);
    size_t len = strlen(in), pos = 0, n = 0;
    while (pos < len) {
        size_t take = len - pos < chunk ? len - pos : chunk, used;
        size_t cap = OUT_CAP - n < room ? OUT_CAP - n : room;
        n += mime_qp_decode(&d, in + pos, take, result + n, cap, &used);
        assert_true(used <= take);
        pos += used;
    }
    size_t w;
    while ((w = mime_qp_finish(&d, result + n, room < OUT_CAP - n ? room : OUT_CAP - n)) > 0)
        n += w;
    result[n] = '\0';
    result_len = n;
    if (invalid)
        *invalid = d.invalid;
    return result;
}

static const char *words(const char *in)
{
    static char mem[OUT_CAP];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(mime_decode_words(str_from_cstr(in), &b));
    memcpy(result, buf_rptr(&b), buf_len(&b));
    result[buf_len(&b)] = '\0';
    result_len = buf_len(&b);
    return result;
}

static const char *param(const char *params, const char *name)
{
    static char mem[OUT_CAP];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    if (!mime_param_get(str_from_cstr(params), name, &b))
        return NULL;
    memcpy(result, buf_rptr(&b), buf_len(&b));
    result[buf_len(&b)] = '\0';
    return result;
}

/* ---- base64 ---- */

static void test_b64_rfc4648(void **state)
{
    (void)state;
    /* RFC 4648 section 10. */
    static const char *const vec[][2] = {
        {"", ""},
        {"Zg==", "f"},
        {"Zm8=", "fo"},
        {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"},
        {"Zm9vYmE=", "fooba"},
        {"Zm9vYmFy", "foobar"},
    };
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        size_t g = 99;
        assert_string_equal(b64_all(vec[i][0], 1000, OUT_CAP, &g), vec[i][1]);
        assert_int_equal(g, 0);
    }
}

static void test_b64_streaming(void **state)
{
    (void)state;
    const char *in = "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZy4K\r\n"
                     "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZy4K\r\n"
                     "AAECAwQF/w==\r\n";
    char one[OUT_CAP];
    b64_all(in, 100000, OUT_CAP, NULL);
    size_t n = result_len;
    memcpy(one, result, n);
    assert_int_equal(n, 2 * 45 + 7);
    assert_memory_equal(one, "The quick brown fox jumps over the lazy dog.\n", 45);
    assert_memory_equal(one + 90, "\0\1\2\3\4\5\xff", 7);
    /* Any split of input and output gives the same bytes. */
    static const size_t chunks[] = {1, 2, 3, 5, 7, 64};
    static const size_t rooms[] = {1, 2, 3, 4, 100};
    for (size_t c = 0; c < 6; c++)
        for (size_t r = 0; r < 5; r++) {
            b64_all(in, chunks[c], rooms[r], NULL);
            assert_int_equal(result_len, n);
            assert_memory_equal(result, one, n);
        }
}

static void test_b64_lenient(void **state)
{
    (void)state;
    size_t g;
    /* Garbage is skipped and counted, whitespace skipped silently. */
    assert_string_equal(b64_all("Zm9v!!Ym\tFy\r\n", 1000, OUT_CAP, &g), "foobar");
    assert_int_equal(g, 2);
    /* Missing padding: the last quantum comes out at the end. */
    assert_string_equal(b64_all("Zm9vYmE", 1000, OUT_CAP, &g), "fooba");
    assert_int_equal(g, 0);
    assert_string_equal(b64_all("Zg", 1, 1, &g), "f");
    /* A lone sextet makes no byte. */
    assert_string_equal(b64_all("Zm9vY", 1000, OUT_CAP, &g), "foo");
    assert_int_equal(g, 1);
    /* Decoding goes on after padding (concatenated blocks). */
    assert_string_equal(b64_all("Zg==Zm8=Zm9v", 1000, OUT_CAP, &g), "ffofoo");
    assert_int_equal(g, 0);
    /* Nothing to do with no room: nothing consumed beyond what is held. */
    struct mime_b64 d;
    mime_b64_init(&d);
    size_t used;
    char out[4];
    assert_int_equal(mime_b64_decode(&d, "Zm9vYmFy", 8, out, 0, &used), 0);
    assert_int_equal(used, 4);
    assert_int_equal(mime_b64_decode(&d, "YmFy", 4, out, 2, &used), 2);
    assert_int_equal(used, 0);
    assert_memory_equal(out, "fo", 2);
}

/* ---- quoted-printable ---- */

static void test_qp_rfc2045(void **state)
{
    (void)state;
    size_t inv;
    /* RFC 2045 6.7 (5): soft line breaks. */
    assert_string_equal(qp_all("Now's the time =\r\nfor all folk to come=\r\n"
                               " to the aid of their country.",
                               1000, OUT_CAP, &inv),
                        "Now's the time for all folk to come to the aid of their country.");
    assert_int_equal(inv, 0);
    /* (1), (2): escapes, either case; literal bytes. */
    assert_string_equal(qp_all("a=3Db=3dc=E2=82=AC", 1000, OUT_CAP, &inv), "a=b=c\xe2\x82\xac");
    assert_int_equal(inv, 0);
    /* (3): trailing whitespace is deleted, inner whitespace kept. */
    assert_string_equal(qp_all("a  b \t\r\nc \nd  ", 1000, OUT_CAP, &inv), "a  b\r\nc\nd");
    /* Soft break with whitespace after '=' (added by transport). */
    assert_string_equal(qp_all("ab= \t\r\ncd=  \nef", 1000, OUT_CAP, &inv), "abcdef");
    assert_int_equal(inv, 0);
    /* Whitespace before a soft break is data. */
    assert_string_equal(qp_all("a  =\r\nb", 1000, OUT_CAP, &inv), "a  b");
    /* CRLF passes through; bare LF too. */
    assert_string_equal(qp_all("x\r\ny\nz", 1000, OUT_CAP, &inv), "x\r\ny\nz");
}

static void test_qp_invalid(void **state)
{
    (void)state;
    size_t inv;
    assert_string_equal(qp_all("a=G1b", 1000, OUT_CAP, &inv), "a=G1b");
    assert_int_equal(inv, 1);
    assert_string_equal(qp_all("a=4xb", 1000, OUT_CAP, &inv), "a=4xb");
    assert_int_equal(inv, 1);
    assert_string_equal(qp_all("50% =", 1000, OUT_CAP, &inv), "50% =");
    assert_int_equal(inv, 1);
    assert_string_equal(qp_all("end=4", 1000, OUT_CAP, &inv), "end=4");
    assert_int_equal(inv, 1);
    assert_string_equal(qp_all("a= b", 1000, OUT_CAP, &inv), "a= b");
    assert_int_equal(inv, 1);
    assert_string_equal(qp_all("a=\rb", 1000, OUT_CAP, &inv), "a=\rb");
    assert_int_equal(inv, 1);
    /* A soft break at the very end. */
    assert_string_equal(qp_all("tail=\r\n", 1000, OUT_CAP, &inv), "tail");
    assert_int_equal(inv, 0);
}

static void test_qp_streaming(void **state)
{
    (void)state;
    const char *in = "Caf=C3=A9 au lait  \r\n=\r\nmore=20text=\r\n  with  =XYsp=\n"
                     "aces          \r\nend= \t \r\n=41=4";
    char one[OUT_CAP];
    qp_all(in, 100000, OUT_CAP, NULL);
    size_t n = result_len;
    memcpy(one, result, n);
    static const size_t chunks[] = {1, 2, 3, 7};
    static const size_t rooms[] = {1, 2, 5, 100};
    for (size_t c = 0; c < 4; c++)
        for (size_t r = 0; r < 4; r++) {
            qp_all(in, chunks[c], rooms[r], NULL);
            assert_int_equal(result_len, n);
            assert_memory_equal(result, one, n);
        }
    /* A very long whitespace run is passed on, not lost. */
    char spaces[300];
    memset(spaces, ' ', sizeof(spaces) - 2);
    spaces[sizeof(spaces) - 2] = 'x';
    spaces[sizeof(spaces) - 1] = '\0';
    qp_all(spaces, 1, 1, NULL);
    assert_int_equal(result_len, sizeof(spaces) - 1);
    assert_int_equal(result[result_len - 1], 'x');
}

/* ---- RFC 2047 ---- */

static void test_words_rfc2047_examples(void **state)
{
    (void)state;
    /* RFC 2047 section 8. */
    assert_string_equal(words("(=?ISO-8859-1?Q?a?=)"), "(a)");
    assert_string_equal(words("(=?ISO-8859-1?Q?a?= b)"), "(a b)");
    assert_string_equal(words("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)"), "(ab)");
    assert_string_equal(words("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)"), "(ab)");
    assert_string_equal(words("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)"), "(ab)");
    assert_string_equal(words("(=?ISO-8859-1?Q?a_b?=)"), "(a b)");
    /* ISO-8859-2 is not converted, but decoded all the same (ASCII). */
    assert_string_equal(words("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)"), "(a b)");
    assert_string_equal(words("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>"),
                        "Keith Moore <moore@cs.utk.edu>");
    assert_string_equal(words("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>"),
                        "Andr\xc3\xa9 Pirard <PIRARD@vm1.ulg.ac.be>");
    assert_string_equal(words("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
                              " =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?="),
                        "If you can read this you understand the example.");
    /* Plain text, folding removed. */
    assert_string_equal(words("plain\r\n text"), "plain text");
}

static void test_words_charsets(void **state)
{
    (void)state;
    const char *want = "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88\xe8\xb3\x87\xe6\x96\x99.xls";
    assert_string_equal(words("=?ISO-2022-JP?B?GyRCJUYlOSVIO3FOQRsoQi54bHM=?="), want);
    assert_string_equal(words("=?iso-2022-jp?b?GyRCJUYlOSVIO3FOQRsoQi54bHM=?="), want);
    assert_string_equal(words("=?Shift_JIS?B?g2WDWINnjpGXvy54bHM=?="), want);
    assert_string_equal(words("=?EUC-JP?B?pcaluaXIu/HOwS54bHM=?="), want);
    assert_string_equal(words("=?UTF-8?B?44OG44K544OI6LOH5paZLnhscw==?="), want);
    /* NEC row 13 in ISO-2022-JP (CP50221), as Japanese mailers write it. */
    assert_string_equal(words("=?ISO-2022-JP?B?GyRCLSE3bkpzGyhCLmRvYw==?="),
                        "\xe2\x91\xa0\xe6\x9c\x88\xe5\xa0\xb1.doc");
    assert_string_equal(words("=?CP932?B?h0A=?="), "\xe2\x91\xa0");
    assert_string_equal(words("=?ISO-8859-1?Q?Gr=FC=DFe?="), "Gr\xc3\xbc\xc3\x9f"
                                                             "e");
    assert_string_equal(words("=?windows-1252?Q?=80?="), "\xe2\x82\xac");
    assert_string_equal(words("=?ISO-8859-15?Q?=A4?="), "\xe2\x82\xac");
    /* RFC 2231 section 5 language suffix. */
    assert_string_equal(words("=?US-ASCII*EN?Q?Keith?="), "Keith");
    /* Invalid UTF-8 becomes U+FFFD. */
    assert_string_equal(words("=?UTF-8?Q?a=FFb?="), "a\xef\xbf\xbd"
                                                    "b");
    /* One ISO-2022-JP string split over two words (escape state and a
     * two-byte character across the split), as some mailers do. */
    /* GyRCJUYlOSVI = ESC $ B テスト (no return to ASCII); GyhC = ESC ( B */
    assert_string_equal(words("=?ISO-2022-JP?B?GyRCJUYlOSVI?=\r\n =?ISO-2022-JP?B?GyhC?="),
                        "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88");
    /* A UTF-8 character split over two words. */
    assert_string_equal(words("=?UTF-8?Q?=E3=83?= =?UTF-8?Q?=86?="), "\xe3\x83\x86");
    /* Different charsets next to each other. */
    assert_string_equal(words("=?UTF-8?Q?a?= =?ISO-8859-1?Q?=E9?="), "a\xc3\xa9");
}

/* Charsets we do not convert: the word is decoded (B or Q) all the same,
 * ASCII kept and every 8-bit byte U+FFFD, so a file name's extension is
 * what a mail client shows (a raw word would let "evil.exe" pass a
 * block_ext list). */
static void test_words_unconverted_charsets(void **state)
{
    (void)state;
    assert_string_equal(words("=?ISO-8859-2?Q?evil.exe?="), "evil.exe");
    assert_string_equal(words("=?iso-8859-2?q?=BFr=F3d=B3o_evil.exe?="), "\xef\xbf\xbdr\xef\xbf\xbd"
                                                                         "d\xef\xbf\xbdo evil.exe");
    /* KOI8-R "Privet.exe" in Cyrillic; GBK and Big5 two-byte characters:
     * one U+FFFD per byte. */
    assert_string_equal(words("=?KOI8-R?B?8NLJ18XULmV4ZQ==?="),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                        "\xef\xbf\xbd.exe");
    assert_string_equal(words("=?GBK?B?zsS8/i5leGU=?="),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.exe");
    assert_string_equal(words("=?Big5?B?pGouZXhl?="), "\xef\xbf\xbdj.exe");
    assert_string_equal(words("=?windows-1251?Q?a=80b?="), "a\xef\xbf\xbd"
                                                           "b");
    assert_string_equal(words("=?x-unknown?B?YWJj?= tail"), "abc tail");
    /* Adjacent words, known and unknown, in any order: whitespace between
     * them dropped (RFC 2047 6.2), each in its own charset. */
    assert_string_equal(words("=?UTF-8?Q?a?= =?koi8-r?Q?b?="), "ab");
    assert_string_equal(words("=?UTF-8?B?44OG?= =?ISO-8859-2?Q?=E9vil?=\r\n"
                              " =?koi8-r?Q?.ex?= =?ISO-8859-1?Q?e?="),
                        "\xe3\x83\x86\xef\xbf\xbdvil.exe");
    /* A decoded NUL or control byte is kept: the file name check flags
     * it (spec SCAN-7). */
    assert_string_equal(words("=?KOI8-R?B?ZXZpbAAuZXhl?="), "evil");
    assert_int_equal(result_len, 9);
    assert_memory_equal(result, "evil\0.exe", 9);
    /* UTF-16 is not converted: its NULs stay (a file name with them is
     * blocked as malformed, SCAN-7). */
    assert_string_equal(words("=?UTF-16BE?B?AGUAdgBpAGwALgBlAHgAZQ==?="), "");
    assert_int_equal(result_len, 16);
}

/* UTF-7 (RFC 2152), which Outlook and Thunderbird decode: ASCII can hide
 * in its base64 runs. */
static void test_words_utf7(void **state)
{
    (void)state;
    assert_string_equal(words("=?UTF-7?Q?evil+AC4-exe?="), "evil.exe");
    assert_string_equal(words("=?utf-7?B?ZXZpbCtBQzQtZXhl?="), "evil.exe"); /* same, B */
    assert_string_equal(words("=?UTF-7?Q?+AOk-vil.exe?="), "\xc3\xa9vil.exe");
    /* "+-" is '+'; a run also ends at a non-base64 byte, which is text. */
    assert_string_equal(words("=?UTF-7?Q?a+-b+AGEAYgBj.exe?="), "a+babc.exe");
    /* A surrogate pair (U+1F600); lone halves are U+FFFD. */
    assert_string_equal(words("=?UTF-7?Q?+2D3eAA.exe?="), "\xf0\x9f\x98\x80.exe");
    assert_string_equal(words("=?UTF-7?Q?+2D0-x?="), "\xef\xbf\xbdx");
    assert_string_equal(words("=?UTF-7?Q?+3gA-x?="), "\xef\xbf\xbdx");
    assert_string_equal(words("=?UTF-7?Q?+2D0AYQ-?="), "\xef\xbf\xbd"
                                                       "a");
    assert_string_equal(words("=?UTF-7?Q?+2D0?="), "\xef\xbf\xbd");
    /* 8-bit bytes are not UTF-7. */
    assert_string_equal(words("=?UTF-7?Q?a=E9b?="), "a\xef\xbf\xbd"
                                                    "b");
    /* One stream over adjacent words, as for other charsets. */
    assert_string_equal(words("=?UTF-7?Q?evil+AC?= =?UTF-7?Q?4-exe?="), "evil.exe");
    /* In RFC 2231 too. */
    assert_string_equal(param("a; filename*=utf-7''evil+AC4-exe", "filename"), "evil.exe");
}

static void test_words_not_words(void **state)
{
    (void)state;
    static const char *const same[] = {
        "=?",
        "a=?b",
        "=?utf-8?x?abc?=",
        "=??Q?abc?=",
        "=?utf-8?Q?abc",
        "=?utf-8?Q?a b?=",
        "x=?utf-8?Q?",
        "boundary ----=_NextPart_000_0012_01C8",
        "=?=?=?=?",
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        assert_string_equal(words(same[i]), same[i]);
    /* Glued to text: decoded anyway, as mail clients do. */
    assert_string_equal(words("Re:=?UTF-8?Q?caf=C3=A9?=!"), "Re:caf\xc3\xa9!");
    /* A word after a retried "=?" (linear search restarts there). */
    assert_string_equal(words("=?utf-8?q?x=?utf-8?q?y?="), "=?utf-8?q?x"
                                                           "y");
}

static void test_words_all_or_nothing(void **state)
{
    (void)state;
    const char *in = "Hello =?UTF-8?B?44OG44K544OI?= world";
    const char *want = "Hello \xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88 world";
    size_t n = strlen(want);
    char mem[64];
    struct buf b;
    buf_init(&b, mem, n - 1);
    assert_false(mime_decode_words(str_from_cstr(in), &b));
    assert_int_equal(buf_len(&b), 0);
    buf_init(&b, mem, n);
    assert_true(mime_decode_words(str_from_cstr(in), &b));
    assert_int_equal(buf_len(&b), n);
    assert_memory_equal(mem, want, n);
    /* Appends after what is there. */
    buf_init(&b, mem, sizeof(mem));
    assert_true(buf_append_cstr(&b, "X:"));
    assert_true(mime_decode_words(STR_LIT("=?UTF-8?Q?ok?="), &b));
    assert_int_equal(buf_len(&b), 4);
    assert_memory_equal(mem, "X:ok", 4);
}

/* ---- parameters ---- */

static void test_param_plain(void **state)
{
    (void)state;
    const char *ct = "multipart/mixed; boundary=\"----=_Part_1\"; Charset=utf-8";
    assert_string_equal(param(ct, "boundary"), "----=_Part_1");
    assert_string_equal(param(ct, "charset"), "utf-8");
    assert_string_equal(param(ct, "CHARSET"), "utf-8");
    assert_null(param(ct, "name"));
    assert_null(param(ct, "multipart/mixed"));
    /* Quoted-string escapes; ';' inside quotes. */
    assert_string_equal(param("attachment; filename=\"a\\\"b;c\\\\.txt\"", "filename"),
                        "a\"b;c\\.txt");
    /* Whitespace around '=', folding, missing ';'. */
    assert_string_equal(param("attachment;\r\n\tfilename = \"x.pdf\" size=12", "size"), "12");
    assert_string_equal(param("attachment;\r\n\tfilename = \"x.pdf\" size=12", "filename"),
                        "x.pdf");
    assert_string_equal(param("text/plain name=foo.exe", "name"), "foo.exe");
    /* An unquoted value ends at whitespace (as in Thunderbird). */
    assert_string_equal(param("attachment; filename=my file.exe", "filename"), "my");
    /* The first occurrence counts; name is not a prefix match. */
    assert_string_equal(param("a; filename=1; filename=2", "filename"), "1");
    assert_null(param("a; filenames=1", "filename"));
    assert_string_equal(param("a; xname=1; name=2", "name"), "2");
    /* Unterminated quote runs to the end. */
    assert_string_equal(param("a; name=\"open.txt", "name"), "open.txt");
    assert_string_equal(param("a; name=\"\"", "name"), "");
}

static void test_param_rfc2231(void **state)
{
    (void)state;
    /* RFC 2231 section 3 (with the ';' the RFC's example forgot). */
    assert_string_equal(param("message/external-body; access-type=URL;\r\n"
                              "         URL*0=\"ftp://\";\r\n"
                              "         URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
                              "url"),
                        "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar");
    /* Section 4. */
    assert_string_equal(param("application/x-stuff;\r\n"
                              " title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
                              "title"),
                        "This is ***fun***");
    /* Section 4.1, as printed (no ';' between the segments). */
    assert_string_equal(param("application/x-stuff\r\n"
                              " title*0*=us-ascii'en'This%20is%20even%20more%20\r\n"
                              " title*1*=%2A%2A%2Afun%2A%2A%2A%20\r\n"
                              " title*2=\"isn't it!\"",
                              "title"),
                        "This is even more ***fun*** isn't it!");
    /* Thunderbird: UTF-8 file name in continuations, out of order. */
    assert_string_equal(param("attachment;\r\n filename*1*=%88%E8%87%B3.txt;\r\n"
                              " filename*0*=UTF-8''%E8%A6%8B%E7%A9",
                              "filename"),
                        "\xe8\xa6\x8b\xe7\xa9\x88\xe8\x87\xb3.txt");
    /* Continuations win over the plain fallback that comes first. */
    assert_string_equal(param("attachment; filename=\"fallback.txt\";"
                              " filename*=utf-8''real%2Eexe",
                              "filename"),
                        "real.exe");
    /* A gap ends the value. */
    assert_string_equal(param("a; n*0=a; n*1=b; n*3=d", "n"), "ab");
    /* Shift_JIS charset; an unknown charset gives its ASCII, 8-bit bytes
     * as U+FFFD; an empty one raw bytes. */
    assert_string_equal(param("a; filename*=Shift_JIS''%83e%83X%83g.txt", "filename"),
                        "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88.txt");
    assert_string_equal(param("a; filename*=x-mac-roman''%41%ff", "filename"), "A\xef\xbf\xbd");
    assert_string_equal(param("a; filename*=ISO-8859-2''%BFr%F3d%B3o.exe", "filename"),
                        "\xef\xbf\xbdr\xef\xbf\xbd"
                        "d\xef\xbf\xbdo.exe");
    assert_string_equal(param("a; filename*0*=koi8-r''%F0%D2; filename*1=\".exe\"", "filename"),
                        "\xef\xbf\xbd\xef\xbf\xbd.exe");
    assert_string_equal(param("a; filename*=''%ff", "filename"), "\xff");
    assert_string_equal(param("a; filename*=''%41%42", "filename"), "AB");
    /* No charset'lang' at all: percent-decoded raw. Bad escapes literal. */
    assert_string_equal(param("a; filename*=a%2Fb%zz%4", "filename"), "a/b%zz%4");
    /* Quoted extended value (not allowed, but sent). */
    assert_string_equal(param("a; filename*=\"UTF-8''%C3%A9.txt\"", "filename"), "\xc3\xa9.txt");
}

static void test_param_rfc2047_legacy(void **state)
{
    (void)state;
    const char *want = "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88\xe8\xb3\x87\xe6\x96\x99.xls";
    /* Outlook Express / Becky!: encoded-words inside the quotes. */
    assert_string_equal(
        param(
            "application/vnd.ms-excel;\r\n name=\"=?ISO-2022-JP?B?GyRCJUYlOSVIO3FOQRsoQi54bHM=?=\"",
            "name"),
        want);
    /* Split into two words over a folded line, unquoted. */
    assert_string_equal(
        param("attachment;\r\n filename==?ISO-2022-JP?B?GyRCJUYlOSVI?=", "filename"),
        "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88");
    assert_string_equal(param("attachment; filename=\"=?ISO-2022-JP?B?GyRCJUYlOSVI?=\r\n"
                              "\t=?ISO-2022-JP?B?O3FOQRsoQi54bHM=?=\"",
                              "filename"),
                        want);
    /* Backslashes and words together. */
    assert_string_equal(param("a; name=\"\\=?UTF-8?Q?x?=\"", "name"), "x");
    /* Any charset: the name a mail client shows, extension and all. */
    assert_string_equal(param("attachment; filename=\"=?ISO-8859-2?Q?evil.exe?=\"", "filename"),
                        "evil.exe");
    assert_string_equal(param("a; name==?GBK?B?zsS8/i5leGU=?=", "name"),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.exe");
}

static void test_param_tail(void **state)
{
    (void)state;
    char dst[16];
    size_t ctl = 99;
    assert_int_equal(mime_param_get_tail(STR_LIT("a; filename=\"short.txt\""), "filename", dst,
                                         sizeof(dst), &ctl),
                     MIME_PARAM_FOUND);
    assert_string_equal(dst, "short.txt");
    assert_int_equal(ctl, 0);
    /* Too long: the end (the extension) is kept. */
    assert_int_equal(mime_param_get_tail(STR_LIT("a; filename=\"0123456789abcdefghij.exe\""),
                                         "filename", dst, sizeof(dst), &ctl),
                     MIME_PARAM_TRUNCATED);
    assert_string_equal(dst, "9abcdefghij.exe");
    /* Exactly cap - 1 bytes fits. */
    assert_int_equal(mime_param_get_tail(STR_LIT("a; filename=\"123456789012345\""), "filename",
                                         dst, sizeof(dst), NULL),
                     MIME_PARAM_FOUND);
    assert_string_equal(dst, "123456789012345");
    /* ... also when it starts with a multi-byte character (nothing is
     * cut, so nothing is dropped). */
    assert_int_equal(mime_param_get_tail(STR_LIT("a; filename*=UTF-8''%C3%A9234567890123"),
                                         "filename", dst, sizeof(dst), NULL),
                     MIME_PARAM_FOUND);
    assert_string_equal(dst, "\xc3\xa9"
                             "234567890123");
    /* The cut falls on a UTF-8 character boundary. */
    assert_int_equal(mime_param_get_tail(STR_LIT("a; filename*=UTF-8''%E3%83%86%E3%82%B9"
                                                 "%E3%83%88%E3%83%86%E3%82%B9%E3%83%88.exe"),
                                         "filename", dst, sizeof(dst), NULL),
                     MIME_PARAM_TRUNCATED);
    assert_string_equal(dst, "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88.exe");
    /* Control bytes are counted over the whole value, ESC excepted. */
    assert_int_equal(mime_param_get_tail(STR_LIT("a; filename*=UTF-8''%01%0A0123456789abcdef.exe"),
                                         "filename", dst, sizeof(dst), &ctl),
                     MIME_PARAM_TRUNCATED);
    assert_int_equal(ctl, 2);
    assert_int_equal(mime_param_get_tail(STR_LIT("a; name=\"\x1b$B%F\x1b(B.txt\""), "name", dst,
                                         sizeof(dst), &ctl),
                     MIME_PARAM_FOUND);
    assert_int_equal(ctl, 0);
    assert_int_equal(
        mime_param_get_tail(STR_LIT("a; name=\"tab\there\""), "name", dst, sizeof(dst), &ctl),
        MIME_PARAM_FOUND);
    assert_int_equal(ctl, 1);
    /* A NUL decoded from a word in a charset we do not convert: counted
     * (the name is blocked as malformed, whatever a client makes of the
     * bytes after the NUL), and the NUL ends the C string. */
    assert_int_equal(
        mime_param_get_tail(STR_LIT("a; filename=\"=?ISO-8859-2?Q?evil.exe=00.txt?=\""), "filename",
                            dst, sizeof(dst), &ctl),
        MIME_PARAM_FOUND);
    assert_int_equal(ctl, 1);
    assert_string_equal(dst, "evil.exe");
    assert_int_equal(mime_param_get_tail(STR_LIT("a; filename*=koi8-r''evil%0D.exe"), "filename",
                                         dst, sizeof(dst), &ctl),
                     MIME_PARAM_FOUND);
    assert_int_equal(ctl, 1);
    /* A long name in such a charset keeps its end, cut at a character. */
    assert_int_equal(mime_param_get_tail(STR_LIT("a; filename=\"=?GBK?B?zsTOxM7EzsTOxC5leGU=?=\""),
                                         "filename", dst, sizeof(dst), &ctl),
                     MIME_PARAM_TRUNCATED);
    assert_string_equal(dst, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.exe");
    /* Absent. */
    assert_int_equal(mime_param_get_tail(STR_LIT("attachment"), "filename", dst, sizeof(dst), &ctl),
                     MIME_PARAM_ABSENT);
    assert_string_equal(dst, "");
    assert_string_equal(mime_param_result_name(MIME_PARAM_TRUNCATED), "TRUNCATED");
}

static void test_param_raw(void **state)
{
    (void)state;
    struct str v;
    bool quoted;
    struct str ct = STR_LIT("multipart/alternative;\r\n\tboundary=\"=?utf-8?q?x?=\\\"\"");
    assert_true(mime_param_raw(ct, "BOUNDARY", &v, &quoted));
    assert_true(quoted);
    assert_int_equal(v.len, 15);
    assert_memory_equal(v.ptr, "=?utf-8?q?x?=\\\"", 15);
    assert_true(v.ptr > ct.ptr && v.ptr + v.len <= ct.ptr + ct.len);
    assert_true(mime_param_raw(STR_LIT("multipart/mixed; boundary=abc;"), "boundary", &v, &quoted));
    assert_false(quoted);
    assert_int_equal(v.len, 3);
    assert_false(mime_param_raw(STR_LIT("multipart/mixed"), "boundary", &v, &quoted));
}

/* ---- headers ---- */

static void test_header_get(void **state)
{
    (void)state;
    struct str h = STR_LIT("Received: from a\r\n"
                           "\tby b\r\n"
                           "subject: Hello\r\n"
                           "Received: from c\r\n"
                           "X-Empty:\r\n"
                           "Date : Mon, 1 Jan 2024 00:00:00 +0900\r\n"
                           "To: a@example.com,\r\n"
                           " b@example.com\r\n"
                           "\r\n"
                           "Body-Like: not a header\r\n");
    struct str v = mime_header_get(h, "Subject", NULL, NULL);
    assert_int_equal(v.len, 5);
    assert_memory_equal(v.ptr, "Hello", 5);
    assert_true(v.ptr > h.ptr && v.ptr < h.ptr + h.len); /* a view, no copy */
    /* Iterate over duplicates. */
    size_t it = 0;
    v = mime_header_get(h, "received", &it, NULL);
    assert_int_equal(v.len, strlen("from a\r\n\tby b"));
    assert_memory_equal(v.ptr, "from a\r\n\tby b", v.len); /* folded view without buffer */
    v = mime_header_get(h, "received", &it, NULL);
    assert_int_equal(v.len, 6);
    assert_memory_equal(v.ptr, "from c", 6);
    v = mime_header_get(h, "received", &it, NULL);
    assert_null(v.ptr);
    /* Empty value: non-NULL, length 0. */
    v = mime_header_get(h, "X-Empty", NULL, NULL);
    assert_non_null(v.ptr);
    assert_int_equal(v.len, 0);
    /* Obsolete "Name :" syntax. */
    v = mime_header_get(h, "Date", NULL, NULL);
    assert_int_equal(v.len, strlen("Mon, 1 Jan 2024 00:00:00 +0900"));
    /* Unfolding into a buffer. */
    char mem[64];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    v = mime_header_get(h, "To", NULL, &b);
    assert_int_equal(v.len, strlen("a@example.com, b@example.com"));
    assert_memory_equal(v.ptr, "a@example.com, b@example.com", v.len);
    assert_ptr_equal(v.ptr, mem);
    /* Too small a buffer: the folded view. */
    buf_init(&b, mem, 5);
    v = mime_header_get(h, "To", NULL, &b);
    assert_true(v.ptr > h.ptr && v.ptr < h.ptr + h.len);
    assert_int_equal(buf_len(&b), 0);
    /* The search stops at the blank line. */
    assert_null(mime_header_get(h, "Body-Like", NULL, NULL).ptr);
    /* A name is not matched as a prefix. */
    assert_null(mime_header_get(h, "Subj", NULL, NULL).ptr);
    assert_null(mime_header_get(STR_LIT("Subjec"), "Subject", NULL, NULL).ptr);
    /* LF-only, no final line end. */
    v = mime_header_get(STR_LIT("A: 1\nB: 2\n 3"), "b", NULL, NULL);
    assert_int_equal(v.len, 4);
    assert_memory_equal(v.ptr, "2\n 3", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_rfc4648),
        cmocka_unit_test(test_b64_streaming),
        cmocka_unit_test(test_b64_lenient),
        cmocka_unit_test(test_qp_rfc2045),
        cmocka_unit_test(test_qp_invalid),
        cmocka_unit_test(test_qp_streaming),
        cmocka_unit_test(test_words_rfc2047_examples),
        cmocka_unit_test(test_words_charsets),
        cmocka_unit_test(test_words_unconverted_charsets),
        cmocka_unit_test(test_words_utf7),
        cmocka_unit_test(test_words_not_words),
        cmocka_unit_test(test_words_all_or_nothing),
        cmocka_unit_test(test_param_plain),
        cmocka_unit_test(test_param_rfc2231),
        cmocka_unit_test(test_param_rfc2047_legacy),
        cmocka_unit_test(test_param_tail),
        cmocka_unit_test(test_param_raw),
        cmocka_unit_test(test_header_get),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

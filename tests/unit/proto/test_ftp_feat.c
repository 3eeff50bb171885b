/* Unit tests for proto/ftp_feat: the FEAT reply the proxy passes on
 * (RFC 2389 3.2 framing, the allow-list of docs/internals/ftp.md). The
 * server replies are real ones (vsftpd 3.0, ProFTPD 1.3 with mod_tls). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/ftp_feat.h"

/* edit - parse the server reply s, edit it into out; false if not edited. */
static bool edit(const char *s, char *out, size_t cap)
{
    static struct ftp_reply r;
    size_t used = 0;
    ftp_reply_init(&r);
    assert_int_equal(ftp_reply_parse(&r, s, strlen(s), &used), FTP_REPLY_DONE);
    struct buf b;
    buf_init(&b, out, cap);
    bool ok = ftp_feat_edit(&r, &b);
    if (!ok)
        assert_int_equal(buf_len(&b), 0);
    (void)buf_cstr(&b);
    return ok;
}

static void test_vsftpd(void **state)
{
    (void)state;
    char out[1024];
    assert_true(edit("211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n"
                     " SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n",
                     out, sizeof(out)));
    assert_string_equal(out, "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n"
                             " SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n");
}

static void test_proftpd(void **state)
{
    (void)state;
    char out[1024];
    assert_true(edit("211-Features:\r\n LANG en-US*\r\n MDTM\r\n MFMT\r\n TVFS\r\n UTF8\r\n"
                     " MFF modify;UNIX.group;UNIX.mode;\r\n"
                     " MLST modify*;perm*;size*;type*;unique*;\r\n"
                     " SITE MKDIR\r\n SIZE\r\n AUTH TLS\r\n CCC\r\n PBSZ\r\n PROT\r\n"
                     " HOST\r\n MODE Z\r\n XCRC \"filename\" SP EP\r\n REST STREAM\r\n"
                     " EPSV\r\n EPRT\r\n211 End\r\n",
                     out, sizeof(out)));
    assert_string_equal(out, "211-Features:\r\n LANG en-US*\r\n MDTM\r\n TVFS\r\n UTF8\r\n"
                             " MLST modify*;perm*;size*;type*;unique*;\r\n SIZE\r\n"
                             " REST STREAM\r\n EPSV\r\n EPRT\r\n211 End\r\n");
}

static void test_edges(void **state)
{
    (void)state;
    char out[1024];
    /* nothing kept, or nothing there: the single no-features line */
    assert_true(
        edit("211-Extensions supported:\r\n AUTH TLS\r\n PBSZ\r\n211 END\r\n", out, sizeof(out)));
    assert_string_equal(out, "211 No features\r\n");
    assert_true(edit("211 no-features\r\n", out, sizeof(out)));
    assert_string_equal(out, "211 No features\r\n");
    /* not 211: relayed by the session as it is */
    assert_false(edit("500 Unknown command.\r\n", out, sizeof(out)));
    assert_false(edit("502 Command not implemented.\r\n", out, sizeof(out)));
    /* lines without the leading blank, parameters where none belong,
     * REST without STREAM, case of the name */
    assert_true(edit("211-Features:\r\nSIZE\r\n SIZE x\r\n REST\r\n REST STREAM x\r\n"
                     " rest stream\r\n  mdtm  \r\n211 End\r\n",
                     out, sizeof(out)));
    assert_string_equal(out, "211-Features:\r\n rest stream\r\n mdtm\r\n211 End\r\n");
    /* the end line is never a feature, even one that begins with a blank */
    assert_true(edit("211-Features:\r\n MDTM\r\n211  SIZE\r\n", out, sizeof(out)));
    assert_string_equal(out, "211-Features:\r\n MDTM\r\n211 End\r\n");
    /* out too small: false, out unchanged */
    assert_false(edit("211-Features:\r\n SIZE\r\n211 End\r\n", out, 20));
    assert_true(ftp_feat_allowed(STR_LIT("MLST size*;")));
    assert_false(ftp_feat_allowed(STR_LIT("AUTH TLS")));
    assert_false(ftp_feat_allowed(STR_LIT("MODE Z")));
    assert_false(ftp_feat_allowed(STR_LIT("")));
}

/* A text cut at FTP_REPLY_TEXT_MAX: its last line may be a cut feature
 * that still looks allowed and is dropped. The text is "Features:" and
 * 27 bytes per "\n MLST size*;type*;modify*;": 2048 - 9 = 75 * 27 + 14,
 * so it ends in " MLST size*;t", an allowed-looking MLST line. */
static void test_truncated(void **state)
{
    (void)state;
    static char reply[FTP_REPLY_TEXT_MAX * 2], out[FTP_REPLY_TEXT_MAX * 2];
    struct buf b;
    buf_init(&b, reply, sizeof(reply));
    assert_true(buf_append_cstr(&b, "211-Features:\r\n"));
    for (size_t i = 0; i < 80; i++)
        assert_true(buf_append_cstr(&b, " MLST size*;type*;modify*;\r\n"));
    assert_true(buf_append_cstr(&b, "211 End\r\n"));
    static struct ftp_reply r;
    size_t used;
    ftp_reply_init(&r);
    assert_int_equal(ftp_reply_parse(&r, buf_rptr(&b), buf_len(&b), &used), FTP_REPLY_DONE);
    assert_true(r.truncated);
    assert_true(str_has_casesuffix(str_make(r.text, r.text_len), STR_LIT("\n MLST size*;t")));
    struct buf o;
    buf_init(&o, out, sizeof(out));
    assert_true(ftp_feat_edit(&r, &o));
    struct str line, rest = buf_view(&o);
    size_t n = 0;
    assert_true(str_cut(rest, '\n', &line, &rest));
    assert_true(str_eq_cstr(line, "211-Features:\r"));
    while (str_cut(rest, '\n', &line, &rest) && !str_eq_cstr(line, "211 End\r")) {
        assert_true(str_eq_cstr(line, " MLST size*;type*;modify*;\r"));
        n++;
    }
    assert_int_equal(n, 75);
    assert_int_equal(rest.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vsftpd),
        cmocka_unit_test(test_proftpd),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

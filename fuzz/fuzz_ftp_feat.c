/* fuzz_ftp_feat - libFuzzer target for proto/ftp_feat.
 *
 * The input is a server's reply to FEAT. It is parsed by
 * proto/ftp_reply_parse; a DONE 211 reply is edited. The edited reply
 * must be exactly one 211 reply for the same parser (all its bytes, no
 * more), framed "211-Features:" ... "211 End" or the single "211 No
 * features" line; each feature line in it must be on the allow-list and
 * appear, as a line, in the server's text. Any other code is refused
 * with out unchanged, and a buffer one byte too small is refused whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/ftp_feat.h"
#include "proto/ftp_reply_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* in_text - whether f (trimmed) is one of text's lines, trimmed. */
static bool in_text(struct str text, struct str f)
{
    struct str line, rest = text;
    for (;;) {
        bool more = str_cut(rest, '\n', &line, &rest);
        if (str_eq(str_trim(line), f))
            return true;
        if (!more)
            return false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ftp_reply r, back;
    static char mem[FTP_REPLY_TEXT_MAX * 2 + 64];
    size_t used = 0;
    ftp_reply_init(&r);
    if (ftp_reply_parse(&r, (const char *)data, size, &used) != FTP_REPLY_DONE)
        return 0;
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    bool ok = ftp_feat_edit(&r, &out);
    if (!ok) {
        if (r.code == 211 || buf_len(&out) != 0)
            abort();
        return 0;
    }
    size_t n = buf_len(&out);
    struct buf small;
    buf_init(&small, mem + n, n - 1 < sizeof(mem) - n ? n - 1 : sizeof(mem) - n);
    if (n - 1 < sizeof(mem) - n && (ftp_feat_edit(&r, &small) || buf_len(&small) != 0))
        abort();
    ftp_reply_init(&back);
    size_t bu = 0;
    if (ftp_reply_parse(&back, buf_rptr(&out), n, &bu) != FTP_REPLY_DONE || bu != n ||
        back.code != 211)
        abort();
    struct str v = str_make(buf_rptr(&out), n), line, rest;
    if (str_eq_cstr(v, "211 No features\r\n"))
        return 0;
    if (!str_cut(v, '\n', &line, &rest) || !str_eq_cstr(line, "211-Features:\r"))
        abort();
    struct str text = str_make(r.text, r.text_len);
    for (;;) {
        if (!str_cut(rest, '\n', &line, &rest))
            abort();
        if (str_eq_cstr(line, "211 End\r"))
            break;
        if (line.len < 3 || line.ptr[0] != ' ' || line.ptr[line.len - 1] != '\r')
            abort();
        struct str f = str_make(line.ptr + 1, line.len - 2);
        if (!ftp_feat_allowed(f) || !in_text(text, f))
            abort();
    }
    if (rest.len != 0)
        abort();
    return 0;
}

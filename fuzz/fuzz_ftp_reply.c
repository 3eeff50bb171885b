/* fuzz_ftp_reply - libFuzzer target for proto/ftp_reply_parse and
 * proto/ftp_listing_format.
 *
 * The input is what an FTP server sends: on the control connection it is
 * parsed as a sequence of replies, all at once, split at a data-dependent
 * point and one byte at a time, which must agree; every reply keeps the
 * module's promises (code 100-599, bounded sanitized text, progress).
 * Each reply's text goes through the PASV and EPSV parsers. The same
 * bytes, read as the output of LIST, go line by line through the LIST
 * parser (views inside the line, no "." or ".." entries) and as a whole
 * through the HTML page formatter, which must fit a buffer sized from
 * the input, must be refused whole by a buffer one byte too small, and
 * must never copy a '<' or '"' of the input into the page.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/ftp_listing_format.h"
#include "proto/ftp_reply_parse.h"

#define REPLIES_MAX  64   /* replies parsed from one input */
#define BYTEWISE_MAX 4096 /* longest input also fed one byte at a time */
/* Page bytes per input byte at most: a name is written escaped (up to 6
 * bytes per byte) and percent-encoded (3), plus the fixed markup of an
 * item per line and of the page. */
#define PAGE_PER_BYTE 16
#define PAGE_FIXED    1024

static void check_reply(const struct ftp_reply *r, enum ftp_reply_result res, size_t used,
                        size_t avail)
{
    if (used > avail)
        abort();
    if (res == FTP_REPLY_AGAIN && used != avail)
        abort();
    if (res != FTP_REPLY_AGAIN && used == 0)
        abort();
    if (res == FTP_REPLY_AGAIN && avail == 1)
        return; /* bytewise: the text is checked once, at the end */
    if (r->text_len > FTP_REPLY_TEXT_MAX || strlen(r->text) != r->text_len)
        abort();
    for (size_t i = 0; i < r->text_len; i++) {
        unsigned char c = (unsigned char)r->text[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            abort();
    }
    if (res == FTP_REPLY_DONE) {
        if (r->code < 100 || r->code > 599 || r->lines == 0 || r->lines > FTP_REPLY_LINES_MAX)
            abort();
        uint8_t addr[4];
        uint16_t port = 1;
        struct str text = str_make(r->text, r->text_len);
        if (ftp_reply_parse_pasv(text, addr, &port) == FTP_REPLY_DONE && port == 0)
            abort();
        if (ftp_reply_parse_epsv(text, &port) == FTP_REPLY_DONE && port == 0)
            abort();
    }
}

/* replies - parse p as consecutive replies in one of three ways (0 whole,
 * 1 split at cut, 2 bytewise); records each result, code and used. */
static size_t replies(const char *p, size_t size, int how, size_t cut, int *codes,
                      enum ftp_reply_result *results, size_t *useds)
{
    static struct ftp_reply r;
    size_t off = 0, n = 0;
    while (off < size && n < REPLIES_MAX) {
        ftp_reply_init(&r);
        enum ftp_reply_result res = FTP_REPLY_AGAIN;
        size_t used = 0, total = 0;
        if (how == 0) {
            res = ftp_reply_parse(&r, p + off, size - off, &used);
            check_reply(&r, res, used, size - off);
            total = used;
        } else if (how == 1) {
            size_t first = cut < size - off ? cut : size - off;
            res = ftp_reply_parse(&r, p + off, first, &used);
            check_reply(&r, res, used, first);
            total = used;
            if (res == FTP_REPLY_AGAIN) {
                res = ftp_reply_parse(&r, p + off + first, size - off - first, &used);
                check_reply(&r, res, used, size - off - first);
                total += used;
            }
        } else {
            for (size_t k = off; k < size && res == FTP_REPLY_AGAIN; k++) {
                res = ftp_reply_parse(&r, p + k, 1, &used);
                check_reply(&r, res, used, 1);
                total += used;
            }
        }
        codes[n] = res == FTP_REPLY_DONE ? r.code : 0;
        results[n] = res;
        useds[n] = total;
        n++;
        if (res != FTP_REPLY_DONE)
            break;
        off += total;
    }
    return n;
}

static void check_control(const char *p, size_t size, unsigned seed)
{
    static int c0[REPLIES_MAX], c1[REPLIES_MAX], c2[REPLIES_MAX];
    static enum ftp_reply_result r0[REPLIES_MAX], r1[REPLIES_MAX], r2[REPLIES_MAX];
    static size_t u0[REPLIES_MAX], u1[REPLIES_MAX], u2[REPLIES_MAX];
    size_t n0 = replies(p, size, 0, 0, c0, r0, u0);
    size_t n1 = replies(p, size, 1, size ? seed % (size + 1) : 0, c1, r1, u1);
    if (n0 != n1 || memcmp(c0, c1, n0 * sizeof(int)) != 0 ||
        memcmp(r0, r1, n0 * sizeof(r0[0])) != 0 || memcmp(u0, u1, n0 * sizeof(size_t)) != 0)
        abort();
    if (size > BYTEWISE_MAX)
        return;
    size_t n2 = replies(p, size, 2, 0, c2, r2, u2);
    if (n0 != n2 || memcmp(c0, c2, n0 * sizeof(int)) != 0 ||
        memcmp(r0, r2, n0 * sizeof(r0[0])) != 0 || memcmp(u0, u2, n0 * sizeof(size_t)) != 0)
        abort();
}

static bool inside(struct str v, struct str line)
{
    return v.len == 0 || (v.ptr >= line.ptr && v.ptr + v.len <= line.ptr + line.len);
}

static void check_list(const char *p, size_t size)
{
    struct str rest = str_make(p, size), line;
    while (rest.len > 0) {
        if (!str_cut(rest, '\n', &line, &rest))
            rest.len = 0;
        struct ftp_list_entry e;
        enum ftp_list_result r = ftp_list_parse_line(line, &e);
        if (!inside(e.raw, line) || e.raw.ptr != line.ptr)
            abort();
        if (r == FTP_LIST_ENTRY) {
            if (e.name.len == 0 || !inside(e.name, e.raw) || !inside(e.target, e.raw) ||
                !inside(e.mtime, e.raw) || str_eq_cstr(e.name, ".") || str_eq_cstr(e.name, "..") ||
                e.is_dir != (e.type == FTP_LIST_DIR))
                abort();
        } else if (r == FTP_LIST_UNKNOWN) {
            if (e.name.len || e.target.len || e.mtime.len || e.has_size)
                abort();
        }
    }
}

static void check_page(const char *p, size_t size)
{
    size_t cap = size * PAGE_PER_BYTE + PAGE_FIXED;
    struct buf *b = buf_new(cap);
    if (!b)
        return;
    struct str input = str_make(p, size);
    /* the input is the listing, and its first line the directory path */
    struct str path, ignored;
    str_cut(input, '\n', &path, &ignored);
    if (path.len > 64)
        path.len = 64;
    if (!ftp_listing_format(b, STR_LIT("h"), 21, path, input))
        abort();
    size_t need = buf_len(b);
    /* markup only: no byte of the input can open a tag or end a value */
    size_t tags = 0;
    for (size_t i = 0; i < need; i++)
        tags += buf_rptr(b)[i] == '<';
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += p[i] == '\n';
    if (tags > 4 * lines + 32)
        abort();
    struct buf small;
    buf_init(&small, buf_rptr(b), need - 1 + (need == 0));
    if (need > 0 && ftp_listing_format(&small, STR_LIT("h"), 21, path, input))
        abort();
    if (small.wpos != 0)
        abort();
    buf_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    unsigned seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    check_control(p, size, seed);
    check_list(p, size);
    check_page(p, size);
    return 0;
}

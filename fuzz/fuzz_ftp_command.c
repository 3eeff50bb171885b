/* fuzz_ftp_command - libFuzzer target for the client side of the FTP
 * proxy's parsers: proto/ftp_cmd_parse, proto/ftp_addr (PORT, EPRT, EPSV
 * arguments and the proxy's own 227/229 replies) and proto/user_target.
 *
 * The input is what a client sends. It is cut into lines as the session
 * does (a TOO_LONG line discarded up to its LF); each verdict must hold
 * when fewer bytes are there (a prefix that is not AGAIN has the same
 * verdict and length). A DONE or INVALID line never holds an LF nor
 * exceeds FTP_CMD_LINE_MAX; the command after the Telnet prefix of a DONE
 * line holds no control byte but HT and no IAC; views lie inside the line
 * and a known verb spells its name. Every trimmed argument goes through
 * the USER split, the PORT and EPRT parsers and the EPSV argument parser;
 * an accepted address is formatted and parsed back to the same address
 * (PORT's canonical form is the input itself: no leading zeros, no
 * blanks), and the 227/229 replies of it must be read back by the reply
 * parser with that address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/ftp_addr.h"
#include "proto/ftp_cmd_parse.h"
#include "proto/ftp_reply_parse.h"
#include "proto/user_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINES_MAX 256 /* lines looked at per input */

static bool inside(struct str v, const char *p, size_t n)
{
    return v.len == 0 || (v.ptr >= p && v.ptr + v.len <= p + n);
}

static bool has_bad(struct str s)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f || c == 0xff)
            return true;
    }
    return false;
}

static void check_user(struct str arg)
{
    struct user_target t;
    enum user_target_status st = user_target_split(arg, &t);
    if (st == USER_TARGET_SYNTAX)
        return;
    if (!inside(t.name, arg.ptr, arg.len) || !inside(t.host, arg.ptr, arg.len))
        abort();
    if (st == USER_TARGET_PLAIN) {
        if (t.name.len != arg.len || memchr(arg.ptr, '@', arg.len) || memchr(arg.ptr, '#', arg.len))
            abort();
        return;
    }
    if (t.name.len == 0 || t.host.len == 0 || t.host.len > USER_TARGET_HOST_MAX)
        abort();
    const char *srv = t.name.ptr + t.name.len + 1;
    size_t srv_len = arg.len - t.name.len - 1;
    if (t.name.ptr != arg.ptr || memchr(srv, '@', srv_len) || memchr(srv, '#', srv_len))
        abort();
    if (!t.ipv6 && memchr(t.host.ptr, ':', t.host.len))
        abort();
}

static void check_replies(const struct ftp_addr *a)
{
    static struct ftp_reply r;
    char mem[128];
    struct buf b;
    size_t used = 0;
    uint16_t port = 0;
    buf_init(&b, mem, sizeof(mem));
    if (!ftp_epsv_reply_format(&b, a->port))
        abort();
    ftp_reply_init(&r);
    if (ftp_reply_parse(&r, buf_rptr(&b), buf_len(&b), &used) != FTP_REPLY_DONE ||
        used != buf_len(&b) || r.code != 229 ||
        ftp_reply_parse_epsv(str_make(r.text, r.text_len), &port) != FTP_REPLY_DONE ||
        port != a->port)
        abort();
    buf_init(&b, mem, sizeof(mem));
    if (a->ipv6) {
        if (ftp_pasv_reply_format(&b, a) || ftp_port_format(&b, a) || buf_len(&b) != 0)
            abort();
        return;
    }
    if (!ftp_pasv_reply_format(&b, a))
        abort();
    uint8_t ip[4];
    ftp_reply_init(&r);
    if (ftp_reply_parse(&r, buf_rptr(&b), buf_len(&b), &used) != FTP_REPLY_DONE || r.code != 227 ||
        ftp_reply_parse_pasv(str_make(r.text, r.text_len), ip, &port) != FTP_REPLY_DONE ||
        port != a->port || memcmp(ip, a->ip, 4) != 0)
        abort();
}

static void check_addr(struct str arg)
{
    struct ftp_addr a, back;
    char mem[FTP_EPRT_MAX + 16];
    struct buf b;
    if (ftp_port_parse(arg, &a)) {
        if (a.ipv6 || a.port == 0)
            abort();
        buf_init(&b, mem, sizeof(mem));
        if (!ftp_port_format(&b, &a) || !str_eq(buf_view(&b), arg))
            abort();
        check_replies(&a);
    }
    if (ftp_eprt_parse(arg, &a)) {
        if (a.port == 0 || arg.len > FTP_EPRT_MAX)
            abort();
        buf_init(&b, mem, sizeof(mem));
        if (!ftp_eprt_format(&b, &a) || !ftp_eprt_parse(buf_view(&b), &back) ||
            back.ipv6 != a.ipv6 || back.port != a.port ||
            memcmp(back.ip, a.ip, a.ipv6 ? 16 : 4) != 0)
            abort();
        if (!a.ipv6 && arg.ptr[0] == '|' && !str_eq(buf_view(&b), arg))
            abort();
        check_replies(&a);
    }
    enum ftp_epsv_arg e = ftp_epsv_arg_parse(arg);
    if (e != FTP_EPSV_BAD && arg.len > 3)
        abort();
}

static void check_command(const struct ftp_command *c, enum ftp_cmd_result r)
{
    const char *p = c->line.ptr;
    size_t n = c->line.len;
    if (!inside(c->verb_text, p, n) || !inside(c->arg, p, n) || !inside(c->command, p, n))
        abort();
    if (memchr(p, '\n', n) || n > FTP_CMD_LINE_MAX)
        abort();
    if (r == FTP_CMD_INVALID) {
        if (c->verb != FTP_V_UNKNOWN)
            abort();
        return;
    }
    if (has_bad(c->command) || (c->telnet_prefix && c->command.len == 0))
        abort();
    if (c->command.len > 0 && c->command.ptr + c->command.len != p + n)
        abort();
    if (c->verb != FTP_V_UNKNOWN && !str_caseeq_cstr(c->verb_text, ftp_verb_name(c->verb)))
        abort();
    if (ftp_verb_is_upload(c->verb) && !ftp_verb_opens_data(c->verb))
        abort();
    struct str a = ftp_arg_trim(c->arg);
    if (!inside(a, c->arg.ptr, c->arg.len))
        abort();
    check_user(a);
    check_addr(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t off = 0;
    for (size_t k = 0; k < LINES_MAX && off < size; k++) {
        size_t len = size - off, consumed = 0;
        struct ftp_command c;
        enum ftp_cmd_result r = ftp_command_find(p + off, len, &c, &consumed);
        /* the same bytes, fewer of them: AGAIN or the same verdict */
        size_t cut = (size_t)(unsigned char)p[off + len / 2] % (len + 1), c2 = 0;
        struct ftp_command cc;
        enum ftp_cmd_result r2 = ftp_command_find(p + off, cut, &cc, &c2);
        if (r2 != FTP_CMD_AGAIN && (r2 != r || (r != FTP_CMD_TOO_LONG && c2 != consumed)))
            abort();
        if (r == FTP_CMD_AGAIN) {
            if (len > FTP_CMD_LINE_MAX + 1 || memchr(p + off, '\n', len))
                abort();
            break;
        }
        if (r == FTP_CMD_TOO_LONG) {
            if (len <= FTP_CMD_LINE_MAX)
                abort();
            bool ended = false;
            size_t d = ftp_line_discard(p + off, len, &ended);
            if (d == 0 || d > len || (ended && p[off + d - 1] != '\n'))
                abort();
            off += d;
            continue;
        }
        if (consumed > len || consumed <= c.line.len || consumed - c.line.len > 2 ||
            p[off + consumed - 1] != '\n' || c.line.ptr != p + off)
            abort();
        check_command(&c, r);
        off += consumed;
    }
    return 0;
}

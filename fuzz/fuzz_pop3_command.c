/* fuzz_pop3_command - libFuzzer target for the client side of
 * proto/pop3_parse: pop3_command_find, pop3_line_discard,
 * pop3_reply_is_multiline, pop3_user_split and pop3_status_format.
 *
 * The input is what a client sends. It is cut into lines as the session
 * does (a TOO_LONG line is discarded up to its LF, as the session may);
 * each verdict must hold when more bytes follow (a prefix that is not
 * AGAIN has the same verdict). A DONE or INVALID line never holds an LF
 * nor exceeds POP3_LINE_MAX; a DONE line holds no control byte but HT, an
 * INVALID one does. The views lie inside the line, a known verb spells its
 * name. Every trimmed argument goes through the USER split (views inside
 * the argument, a TARGET has a non-empty name without blanks and a host of
 * the allowed bytes). The verb is echoed in a -ERR reply; that reply must
 * be exactly one status line that pop3_status_find reads back as -ERR.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/pop3_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINES_MAX 256 /* lines looked at per input */

static bool inside(struct str v, const char *p, size_t n)
{
    return v.len == 0 || (v.ptr >= p && v.ptr + v.len <= p + n);
}

static bool has_ctl(struct str s)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return true;
    }
    return false;
}

static void check_user(struct str arg)
{
    struct pop3_user_target t;
    enum pop3_user_status st = pop3_user_split(arg, &t);
    if (st == POP3_USER_SYNTAX)
        return;
    if (!inside(t.name, arg.ptr, arg.len) || !inside(t.host, arg.ptr, arg.len))
        abort();
    if (st == POP3_USER_PLAIN) {
        if (t.name.len != arg.len || memchr(arg.ptr, '@', arg.len) || memchr(arg.ptr, '#', arg.len))
            abort();
        return;
    }
    if (t.name.len == 0 || t.host.len == 0 || t.host.len > POP3_HOST_MAX || has_ctl(arg))
        abort();
    if (memchr(t.name.ptr, ' ', t.name.len) || memchr(t.name.ptr, '\t', t.name.len))
        abort();
    /* the separator was the last one: none in the server part */
    const char *srv = t.name.ptr + t.name.len + 1;
    size_t srv_len = arg.len - t.name.len - 1;
    if (t.name.ptr != arg.ptr || memchr(srv, '@', srv_len) || memchr(srv, '#', srv_len))
        abort();
    for (size_t i = 0; i < t.host.len; i++) {
        char c = t.host.ptr[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '-' || c == '.' || c == '_' || (t.ipv6 && c == ':');
        if (!ok)
            abort();
    }
    if (!t.ipv6 && memchr(t.host.ptr, ':', t.host.len))
        abort();
}

static void check_echo(struct str verb)
{
    static char text[POP3_LINE_MAX + 64], mem[POP3_STATUS_FORMAT_MAX + 64];
    struct buf t, out;
    buf_init(&t, text, sizeof(text));
    if (!buf_printf(&t, "Unknown command: %.*s", (int)verb.len, verb.ptr))
        abort();
    buf_init(&out, mem, sizeof(mem));
    if (!pop3_status_format(&out, false, buf_cstr(&t)) || buf_len(&out) > POP3_STATUS_FORMAT_MAX)
        abort();
    struct pop3_status st;
    size_t used = 0;
    if (pop3_status_find(buf_rptr(&out), buf_len(&out), &st, &used) != POP3_DONE ||
        st.kind != POP3_ST_ERR || used != buf_len(&out))
        abort();
}

static void check_command(const struct pop3_command *c, enum pop3_result r)
{
    const char *p = c->line.ptr;
    size_t n = c->line.len;
    if (!inside(c->verb_text, p, n) || !inside(c->arg, p, n))
        abort();
    if (memchr(p, '\n', n) || n > POP3_LINE_MAX)
        abort();
    if ((r == POP3_INVALID) != has_ctl(c->line))
        abort();
    if (r == POP3_INVALID && c->verb != POP3_V_UNKNOWN)
        abort();
    if (c->verb != POP3_V_UNKNOWN && !str_caseeq_cstr(c->verb_text, pop3_verb_name(c->verb)))
        abort();
    bool ml = pop3_reply_is_multiline(c);
    if (ml && c->verb != POP3_V_RETR && c->verb != POP3_V_TOP && c->verb != POP3_V_CAPA &&
        c->verb != POP3_V_LIST && c->verb != POP3_V_UIDL && c->verb != POP3_V_AUTH)
        abort();
    struct str a = pop3_arg_trim(c->arg);
    if (!inside(a, c->arg.ptr, c->arg.len))
        abort();
    check_user(a);
    check_echo(c->verb_text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t off = 0;
    for (size_t k = 0; k < LINES_MAX && off < size; k++) {
        size_t len = size - off, consumed = 0;
        struct pop3_command c;
        enum pop3_result r = pop3_command_find(p + off, len, &c, &consumed);
        /* the same bytes, fewer of them: AGAIN or the same verdict */
        size_t cut = (size_t)(unsigned char)p[off + len / 2] % (len + 1), c2 = 0;
        struct pop3_command cc;
        enum pop3_result r2 = pop3_command_find(p + off, cut, &cc, &c2);
        if (r2 != POP3_AGAIN && (r2 != r || (r != POP3_TOO_LONG && c2 != consumed)))
            abort();
        if (r == POP3_AGAIN) {
            if (len > POP3_LINE_MAX + 1 || memchr(p + off, '\n', len))
                abort();
            break;
        }
        if (r == POP3_TOO_LONG) {
            if (len <= POP3_LINE_MAX)
                abort();
            bool ended = false;
            size_t d = pop3_line_discard(p + off, len, &ended);
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

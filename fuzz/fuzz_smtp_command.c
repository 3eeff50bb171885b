/* fuzz_smtp_command - libFuzzer target for the client side of
 * proto/smtp_parse: smtp_line_find, smtp_command_parse, smtp_path_parse
 * and smtp_reply_format.
 *
 * The input is what a client sends. It is cut into lines as the session
 * does; each verdict must hold when more bytes follow (a prefix that is
 * DONE or TOO_LONG stays so), a DONE line never holds an LF and never
 * exceeds SMTP_LINE_MAX. Each line is parsed as a command: the views lie
 * inside the line, a known verb spells its name and comes from a line
 * without control bytes. MAIL and RCPT arguments go through the path
 * parser (views inside the argument, no control byte in an accepted
 * path). The verb is echoed in a "500 Unknown Command" reply as the
 * session does; that reply must be exactly one line that smtp_reply_parse
 * reads back as code 500.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/smtp_addr.h"
#include "proto/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINES_MAX 256 /* lines looked at per input */

static bool inside(struct str v, const char *p, size_t n)
{
    return v.ptr >= p && v.ptr + v.len <= p + n;
}

static bool has_ctl(struct str s, bool allow_tab)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f)
            return true;
    }
    return false;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void check_path(struct str arg, const char *prefix)
{
    struct str a = STR_NULL, p = STR_NULL;
    enum smtp_path_status st = smtp_path_parse(arg, prefix, &a, &p);
    if (st == SMTP_PATH_NO_PREFIX && str_has_caseprefix(arg, str_from_cstr(prefix)))
        abort();
    if (st != SMTP_PATH_OK)
        return;
    if (!inside(a, arg.ptr, arg.len) || !inside(p, arg.ptr, arg.len) || has_ctl(a, false) ||
        has_ctl(p, true))
        abort();
    if (p.len && (is_blank(p.ptr[0]) || is_blank(p.ptr[p.len - 1])))
        abort();
    if (p.len && p.ptr < a.ptr + a.len)
        abort(); /* parameters come after the path */
    char domain[SMTP_ADDR_DOMAIN_MAX + 1];
    if (smtp_rcpt_classify(a, domain, sizeof(domain)) == SMTP_RCPT_DOMAIN &&
        (memchr(a.ptr, '>', a.len) || memchr(a.ptr, '<', a.len)))
        abort();
}

/* check_echo - "500 Unknown Command: "<verb>" (P)" is one reply line. */
static void check_echo(struct str verb)
{
    static char text[SMTP_LINE_MAX + 64], mem[SMTP_LINE_MAX + 128];
    static struct smtp_reply r;
    struct buf t, out;
    buf_init(&t, text, sizeof(text));
    if (!buf_printf(&t, "Unknown Command: \"%.*s\"", (int)verb.len, verb.ptr))
        abort();
    buf_init(&out, mem, sizeof(mem));
    if (!smtp_reply_format(&out, 500, text, "Sekisho/smtp") ||
        buf_len(&out) > SMTP_REPLY_FORMAT_MAX)
        abort();
    if (smtp_reply_parse(buf_rptr(&out), buf_len(&out), &r) != SMTP_DONE || r.code != 500 ||
        r.nlines != 1 || r.len != buf_len(&out))
        abort();
    if (memchr(buf_rptr(&out), '\r', buf_len(&out) - 2) != NULL)
        abort();
}

static void check_command(struct str line)
{
    struct smtp_command c;
    smtp_command_parse(line, &c);
    if (!inside(c.verb_text, line.ptr, line.len) || !inside(c.arg, line.ptr, line.len))
        abort();
    if (c.arg.len && (is_blank(c.arg.ptr[0]) || is_blank(c.arg.ptr[c.arg.len - 1])))
        abort();
    for (size_t i = 0; i < c.verb_text.len; i++)
        if (is_blank(c.verb_text.ptr[i]))
            abort();
    if (c.verb != SMTP_V_UNKNOWN) {
        if (!str_caseeq_cstr(c.verb_text, smtp_verb_name(c.verb)) || has_ctl(line, true))
            abort();
    }
    if (c.verb == SMTP_V_MAIL)
        check_path(c.arg, "FROM:");
    if (c.verb == SMTP_V_RCPT)
        check_path(c.arg, "TO:");
    check_path(c.arg, "TO:");
    check_echo(c.verb_text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t off = 0;
    for (size_t n = 0; n < LINES_MAX; n++) {
        size_t len = size - off, line_len = 0, consumed = 0;
        enum smtp_result r = smtp_line_find(p + off, len, &line_len, &consumed);
        /* the same bytes, less of them: AGAIN or the same verdict */
        size_t cut = len ? (size_t)p[off + len / 2] % (len + 1) : 0;
        size_t l2 = 0, c2 = 0;
        enum smtp_result r2 = smtp_line_find(p + off, cut, &l2, &c2);
        if (r2 != SMTP_AGAIN && (r2 != r || l2 != line_len || c2 != consumed))
            abort();
        if (r == SMTP_AGAIN) {
            if (len > SMTP_LINE_MAX + 1 || memchr(p + off, '\n', len))
                abort();
            break;
        }
        if (r == SMTP_TOO_LONG) {
            if (len <= SMTP_LINE_MAX)
                abort();
            break; /* the session closes the connection */
        }
        if (r != SMTP_DONE || consumed > len || line_len > SMTP_LINE_MAX ||
            consumed - line_len < 1 || consumed - line_len > 2 || p[off + consumed - 1] != '\n' ||
            memchr(p + off, '\n', line_len))
            abort();
        check_command(str_make(p + off, line_len));
        off += consumed;
        if (off == size)
            break;
    }
    return 0;
}

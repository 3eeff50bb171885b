/* fuzz_smtp_xclient - libFuzzer target for proto/smtp_xclient.
 *
 * The input is split at the first NUL: before it, what a parent sends
 * (an EHLO reply, parsed with smtp_reply_parse, its offer read with
 * smtp_xoffer_parse); after it, the client's facts (address, name, HELO
 * and login, separated by further NULs, as hostile as a client can make
 * its HELO). Every offer holds only known attribute bits; every formatted
 * XCLIENT/XFORWARD line is refused whole or is exactly one line: it
 * starts with the verb, ends with the only CR LF in it, has no byte
 * outside 33..126 but the single SP before each attribute, is at most
 * SMTP_XCLIENT_LINE_MAX + 2 bytes, and names only offered attributes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/smtp_parse.h"
#include "proto/smtp_xclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ALL_BITS                                                                                   \
    (SMTP_XATTR_NAME | SMTP_XATTR_ADDR | SMTP_XATTR_PORT | SMTP_XATTR_PROTO | SMTP_XATTR_HELO |    \
     SMTP_XATTR_LOGIN)

static struct str next_field(const char **p, const char *end)
{
    const char *s = *p;
    const char *z = memchr(s, '\0', (size_t)(end - s));
    if (!z)
        z = end;
    *p = z < end ? z + 1 : end;
    return str_make(s, (size_t)(z - s));
}

static void check_line(const char *verb, unsigned offer, const struct smtp_xclient_facts *f)
{
    static char mem[SMTP_XCLIENT_LINE_MAX + 64];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    if (!smtp_xclient_format(&b, verb, offer, f)) {
        if (buf_len(&b) != 0)
            abort();
        return;
    }
    size_t n = buf_len(&b);
    const char *l = buf_rptr(&b);
    size_t vlen = strlen(verb);
    if (n > SMTP_XCLIENT_LINE_MAX + 2 || n < vlen + 2 || memcmp(l, verb, vlen) != 0 ||
        l[n - 2] != '\r' || l[n - 1] != '\n')
        abort();
    for (size_t i = vlen; i < n - 2; i++) {
        unsigned char c = (unsigned char)l[i];
        if (c == ' ') {
            if (i + 1 >= n - 2 || l[i + 1] == ' ')
                abort(); /* one SP, then an attribute */
            continue;
        }
        if (c < 33 || c > 126)
            abort();
    }
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{" NAME=", SMTP_XATTR_NAME}, {" ADDR=", SMTP_XATTR_ADDR},
                 {" PORT=", SMTP_XATTR_PORT}, {" PROTO=", SMTP_XATTR_PROTO},
                 {" HELO=", SMTP_XATTR_HELO}, {" LOGIN=", SMTP_XATTR_LOGIN}};
    /* Attribute names appear only where offered (values cannot hold a SP
     * or '=' unescaped, so a match is an attribute). */
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (memmem(l, n, names[k].name, strlen(names[k].name)) && !(offer & names[k].bit))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data, *end = in + size;
    const char *z = memchr(in, '\0', size);
    size_t reply_len = z ? (size_t)(z - in) : size;
    struct smtp_reply r;
    struct smtp_xoffer o = {0};
    if (smtp_reply_parse(in, reply_len, &r) == SMTP_DONE) {
        o = smtp_xoffer_parse(&r);
        if ((o.xclient & ~ALL_BITS) || (o.xforward & ~ALL_BITS))
            abort();
        if (r.code != 250 && (o.xclient || o.xforward))
            abort();
    }
    const char *p = z ? z + 1 : end;
    struct smtp_xclient_facts f = {0};
    f.addr = next_field(&p, end);
    f.name = next_field(&p, end);
    f.helo = next_field(&p, end);
    f.login = next_field(&p, end);
    f.port = (uint16_t)(size * 2654435761u);
    f.esmtp = size & 1;
    check_line("XCLIENT", o.xclient ? o.xclient : ALL_BITS, &f);
    check_line("XFORWARD", o.xforward ? o.xforward : (ALL_BITS & ~SMTP_XATTR_LOGIN), &f);
    return 0;
}

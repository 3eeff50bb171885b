/* fuzz_scanreq - libFuzzer target for proto/scanreq.
 *
 * The first input byte (modulo 5) picks what is exercised: the request
 * decoder, the reply decoder, the VERSION reply decoder (each followed by
 * a re-encode that must give back the same bytes; a VERSION reply's
 * entries are also formatted as sekisho-scan prints them), the riskware
 * pattern matcher or the ClamAV PUA name mapper. Inputs are untrusted
 * bytes straight off the socket, so any crash, over-read (ASan) or UB
 * here is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/db_version.h"
#include "proto/scanreq.h"

static void fuzz_request(const char *p, size_t len)
{
    struct scanreq_request req;
    size_t n = 0;
    enum scanreq_parse st = scanreq_decode_request(p, len, &req, &n);
    if (st == SCANREQ_AGAIN && n == 0)
        abort();
    if (st != SCANREQ_DONE)
        return;
    if (n > len)
        abort();
    char mem[SCANREQ_REQUEST_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    if (!scanreq_encode_request(&b, &req) || buf_len(&b) != n)
        abort();
    if (memcmp(mem, p, n) != 0)
        abort(); /* the format is canonical: decode then encode is identity */
}

static void fuzz_reply(const char *p, size_t len)
{
    struct scanreq_reply rep;
    size_t n = 0;
    enum scanreq_parse st = scanreq_decode_reply(p, len, &rep, &n);
    if (st == SCANREQ_AGAIN && n == 0)
        abort();
    if (st != SCANREQ_DONE)
        return;
    char mem[SCANREQ_REPLY_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    if (!scanreq_encode_reply(&b, &rep) || buf_len(&b) != n || memcmp(mem, p, n) != 0)
        abort();
    char det[128]; /* every VSD_* name fits (scanreq_details_format) */
    struct buf d;
    buf_init(&d, det, sizeof(det));
    if (!scanreq_details_format(rep.details, &d))
        abort();
}

static void fuzz_version(const char *p, size_t len)
{
    static struct scanreq_version v; /* 6 KB */
    size_t n = 0;
    enum scanreq_parse st = scanreq_decode_version(p, len, &v, &n);
    if (st == SCANREQ_AGAIN && (n == 0 || n > SCANREQ_VERSION_REPLY_MAX))
        abort();
    if (st != SCANREQ_DONE)
        return;
    if (n > len || v.count > DB_VERSION_ENTRIES_MAX)
        abort();
    static char mem[SCANREQ_VERSION_REPLY_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    if (!scanreq_encode_version(&b, &v) || buf_len(&b) != n || memcmp(mem, p, n) != 0)
        abort();
    for (size_t i = 0; i < v.count; i++) {
        char line[DB_VERSION_LINE_MAX];
        size_t w = db_version_format(&v.dbs[i], line, sizeof(line));
        if (w >= sizeof(line) || strlen(line) != w || memchr(line, '\n', w) != NULL)
            abort(); /* every entry fits one line, and stays one line */
    }
}

static void fuzz_riskware(const char *p, size_t len)
{
    /* patterns '\n' name */
    const char *nl = memchr(p, '\n', len);
    if (!nl)
        return;
    struct str patterns = str_make(p, (size_t)(nl - p));
    struct str name = str_make(nl + 1, len - (size_t)(nl - p) - 1);
    (void)scanreq_riskware_match(patterns, name);
}

static void fuzz_pua(const char *p, size_t len)
{
    char in[512];
    if (len >= sizeof(in))
        len = sizeof(in) - 1;
    memcpy(in, p, len);
    in[len] = '\0';
    char out[SCANREQ_RISKWARE_NAME_MAX + 1];
    if (scanreq_riskware_from_clamav(in, out, sizeof(out))) {
        if (strlen(out) >= sizeof(out))
            abort();
        (void)scanreq_riskware_match(STR_LIT("*.*.*"), str_from_cstr(out));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *p = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 5) {
    case 0:
        fuzz_request(p, len);
        break;
    case 1:
        fuzz_reply(p, len);
        break;
    case 2:
        fuzz_riskware(p, len);
        break;
    case 4:
        fuzz_version(p, len);
        break;
    default:
        fuzz_pua(p, len);
        break;
    }
    return 0;
}

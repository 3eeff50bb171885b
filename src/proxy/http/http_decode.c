/* http_decode - see http_decode.h. */
#include "proxy/http/http_decode.h"

#include <stdbool.h>

#include "lib/buf.h"
#include "proto/http_coding.h"
#include "proto/http_range.h"
#include "proto/scanreq.h"

uint8_t http_decode_scan_encoding(struct http1_fields f)
{
    struct http_coding_list l;
    http_coding_list_init(&l);
    struct str v;
    size_t iter = 0;
    while (http1_fields_find(f, "Content-Encoding", &iter, &v))
        http_coding_add(&l, v);
    if (l.count == 0)
        return 0;
    if (l.unknown || l.too_many || l.count > SCANREQ_ENC_LAYERS)
        return SCANREQ_ENC_UNDECODABLE;
    /* The last coding listed was applied last: scand undoes it first. */
    unsigned enc = l.codings[l.count - 1];
    if (l.count == 2)
        enc |= (unsigned)l.codings[0] << 4;
    return (uint8_t)enc;
}

struct str http_decode_accept(struct http1_fields f, char *out, size_t cap)
{
    struct buf b;
    buf_init(&b, out, cap);
    struct str v;
    size_t iter = 0;
    bool had = false;
    while (http1_fields_find(f, "Accept-Encoding", &iter, &v)) {
        had = true;
        size_t before = b.wpos;
        if (before > 0 && !buf_append(&b, ", ", 2))
            break;
        if (!http_coding_filter_accept(v, &b))
            break;
        if (b.wpos == before + 2 && before > 0)
            b.wpos = before; /* nothing kept from this field */
    }
    /* Without the header any coding is acceptable (RFC 9110 12.5.3): a
     * client that accepts none of ours gets identity, explicitly. */
    if (had && b.wpos == 0)
        return STR_LIT("identity");
    return buf_view(&b);
}

bool http_decode_range(struct http1_fields f, uint64_t total, uint64_t *first, uint64_t *last)
{
    struct str v, other;
    size_t iter = 0;
    if (!http1_fields_find(f, "Range", &iter, &v) || http1_fields_find(f, "Range", &iter, &other))
        return false;
    iter = 0;
    if (http1_fields_find(f, "If-Range", &iter, &other))
        return false;
    return http_range_single(v, total, first, last);
}

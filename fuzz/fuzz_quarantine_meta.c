/* fuzz_quarantine_meta - libFuzzer target for proto/quarantine_meta.
 *
 * A meta file is read by the console and sekisho-quarantine from a
 * directory another process writes, so any bytes must parse safely.
 * Invariants: what parses formats again and parses to the same fields
 * (format(parse(x)) is a fixed point); every view lies inside the input;
 * an id either parses or not, never reads past its bytes; the recipient
 * split never reports fewer than it gave.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/quarantine_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct str v, const uint8_t *data, size_t size)
{
    if (v.len && ((const uint8_t *)v.ptr < data || (const uint8_t *)v.ptr + v.len > data + size))
        abort();
}

static bool same(const struct qmeta *a, const struct qmeta *b)
{
    bool ok = a->version == b->version && a->time == b->time && a->result == b->result &&
              str_eq(a->service, b->service) && str_eq(a->detection, b->detection) &&
              str_eq(a->client, b->client) && str_eq(a->user, b->user) &&
              a->has_sender == b->has_sender && str_eq(a->sender, b->sender) &&
              a->nrcpt == b->nrcpt && a->rcpt_count == b->rcpt_count && str_eq(a->url, b->url) &&
              str_eq(a->file, b->file) && a->size == b->size && a->released == b->released &&
              a->released_time == b->released_time && str_eq(a->released_by, b->released_by);
    for (size_t i = 0; ok && i < a->nrcpt; i++)
        ok = str_eq(a->rcpt[i], b->rcpt[i]);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct qmeta m, again;
    static char mem[QMETA_TEXT_MAX + 1024];
    struct str text = str_make((const char *)data, size);
    (void)qmeta_id_parse(text, NULL);
    struct str rc[8];
    size_t n;
    qmeta_rcpts_split(text, rc, 8, &n);
    for (size_t i = 0; i < n && i < 8; i++)
        inside(rc[i], data, size);
    if (!qmeta_parse(text, &m, NULL))
        return 0;
    inside(m.service, data, size);
    inside(m.detection, data, size);
    inside(m.client, data, size);
    inside(m.user, data, size);
    inside(m.sender, data, size);
    inside(m.url, data, size);
    inside(m.file, data, size);
    inside(m.released_by, data, size);
    for (size_t i = 0; i < m.nrcpt; i++)
        inside(m.rcpt[i], data, size);
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    if (m.url.len == 0) /* the parser takes an empty url; the formatter does not */
        return 0;
    if (!qmeta_format(&m, &b))
        abort(); /* what was read in fits again (unknown keys are dropped) */
    if (!qmeta_parse(buf_view(&b), &again, NULL) || !same(&m, &again))
        abort();
    return 0;
}

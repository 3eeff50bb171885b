/* fuzz_ini_edit - libFuzzer target for proto/ini_edit.
 *
 * Input: one flag byte (bit 0: an alias-aware key compare instead of the
 * default; bits 1-3: how many changes, 0-7), then each change as three
 * NUL-terminated strings section, key, value (a value starting with 0x01
 * is NULL, a removal), then the ini text. Any text, any change: the edit
 * is either refused with a one-line reason and no output, or
 *   - the new text read back by proto/ini_parse gives every set key its
 *     value (in each of its entries, at least one) and no entry for a
 *     removed key (the round trip);
 *   - every other item ini_parse yields (entries of other keys, invalid
 *     and too-long lines, in order) is the same in both texts (nothing
 *     else changed);
 *   - applying the same changes to the new text changes nothing more;
 *   - no changes give a byte-for-byte copy.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "proto/ini_edit.h"
#include "proto/ini_parse.h"

#define NCH_MAX 7

/* alias_same - "a" and "alias_a" name one setting, otherwise the default
 * compare (symmetric, as core/config's). */
static bool alias_same(struct str file_key, const char *key, void *arg)
{
    (void)arg;
    if (str_caseeq_cstr(file_key, key))
        return true;
    return (str_caseeq_cstr(file_key, "a") && strcasecmp(key, "alias_a") == 0) ||
           (str_caseeq_cstr(file_key, "alias_a") && strcasecmp(key, "a") == 0);
}

static ini_same_key_fn *g_same;

static bool same_key(struct str file_key, const char *key)
{
    return g_same ? g_same(file_key, key, NULL) : str_caseeq_cstr(file_key, key);
}

static bool in_section(const struct ini_item *it, const char *section)
{
    return it->section.ptr && !it->section_invalid && str_caseeq_cstr(it->section, section);
}

/* changed - the entry is named by one of the changes. */
static bool changed(const struct ini_item *it, const struct ini_change *ch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (in_section(it, ch[i].section) && same_key(it->key, ch[i].key))
            return true;
    return false;
}

/* next_other - the next item that is not a header and not a changed entry. */
static enum ini_parse_result next_other(struct ini_parser *ps, struct ini_item *it,
                                        const struct ini_change *ch, size_t n)
{
    enum ini_parse_result r;
    while ((r = ini_parse_next(ps, it)) != INI_PARSE_DONE) {
        if (r == INI_PARSE_SECTION || (r == INI_PARSE_ENTRY && changed(it, ch, n)))
            continue;
        return r;
    }
    return r;
}

static bool same_view(struct str a, struct str b)
{
    return (a.ptr == NULL) == (b.ptr == NULL) && a.len == b.len &&
           (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void check_result(const char *text, size_t len, const char *out, size_t olen,
                         const struct ini_change *ch, size_t n)
{
    struct ini_parser ps;
    struct ini_item it;
    enum ini_parse_result r;
    /* round trip */
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        ini_parse_init(&ps, out, olen);
        while ((r = ini_parse_next(&ps, &it)) != INI_PARSE_DONE) {
            if (r != INI_PARSE_ENTRY || !in_section(&it, ch[i].section) ||
                !same_key(it.key, ch[i].key))
                continue;
            if (!ch[i].value || !str_eq_cstr(it.value, ch[i].value))
                abort();
            k++;
        }
        if (ch[i].value && k == 0)
            abort();
    }
    /* nothing else changed */
    struct ini_parser pa, pb;
    struct ini_item a, b;
    ini_parse_init(&pa, text, len);
    ini_parse_init(&pb, out, olen);
    for (;;) {
        enum ini_parse_result ra = next_other(&pa, &a, ch, n);
        enum ini_parse_result rb = next_other(&pb, &b, ch, n);
        if (ra != rb)
            abort();
        if (ra == INI_PARSE_DONE)
            break;
        if (ra == INI_PARSE_ENTRY &&
            (!same_view(a.section, b.section) || a.section_invalid != b.section_invalid ||
             !same_view(a.key, b.key) || !same_view(a.value, b.value)))
            abort();
        if (ra != INI_PARSE_ENTRY && a.error != b.error)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    g_same = data[0] & 1 ? alias_same : NULL;
    size_t n = (size_t)(data[0] >> 1 & 7);
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    struct ini_change ch[NCH_MAX];
    const char *strs[NCH_MAX * 3];
    static char store[NCH_MAX * 3][INI_LINE_MAX + 8];
    size_t got = 0;
    for (; got < n * 3; got++) {
        const char *z = memchr(p, '\0', (size_t)(end - p));
        if (!z || (size_t)(z - p) >= sizeof(store[0]))
            break;
        memcpy(store[got], p, (size_t)(z - p) + 1);
        strs[got] = store[got];
        p = z + 1;
    }
    n = got / 3;
    for (size_t i = 0; i < n; i++)
        ch[i] = (struct ini_change){strs[3 * i], strs[3 * i + 1],
                                    strs[3 * i + 2][0] == '\x01' ? NULL : strs[3 * i + 2]};
    size_t len = (size_t)(end - p);
    char *text = malloc(len ? len : 1); /* exactly the text: ASan sees an over-read */
    if (!text)
        return 0;
    memcpy(text, p, len);
    struct buf out = {0};
    char err[INI_EDIT_ERR_MAX];
    if (!ini_edit_apply(text, len, ch, n, g_same, NULL, &out, err, sizeof(err))) {
        if (out.data || err[0] == '\0' || strchr(err, '\n') ||
            strnlen(err, sizeof(err)) >= sizeof(err))
            abort();
        free(text);
        return 0;
    }
    if (out.cap != buf_len(&out))
        abort();
    const char *o = buf_rptr(&out);
    size_t olen = buf_len(&out);
    if (n == 0 && (olen != len || memcmp(o, text, len) != 0))
        abort();
    check_result(text, len, o, olen, ch, n);
    /* again: a fixed point */
    struct buf out2 = {0};
    if (!ini_edit_apply(o, olen, ch, n, g_same, NULL, &out2, err, sizeof(err)) ||
        buf_len(&out2) != olen || memcmp(buf_rptr(&out2), o, olen) != 0)
        abort();
    buf_fini(&out2);
    buf_fini(&out);
    free(text);
    return 0;
}

/* fuzz_htdigest - libFuzzer target for proto/htdigest.
 *
 * Input: a user and a realm as two NUL-terminated strings, then the file
 * text (without them, the fixed names "admin" and "fsigk"). The console
 * reads this file to let an administrator in and rewrites it when a
 * password changes, so any crash, over-read (ASan: the text is a buffer of
 * exactly its size) or UB is a bug, and so is a rewrite that touches more
 * than the hash digits of the user's lines: when htdigest_find finds the
 * user, htdigest_set must give a text of the same length that differs
 * only inside 32-digit hashes; when it does not, the old text followed by
 * (a line end and) one new line. Either way the new text must give back
 * the new HA1, and every other account's HA1 must be unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/htdigest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    const char *user = "admin", *realm = "fsigk";
    const char *z1 = memchr(p, '\0', size);
    const char *z2 = z1 ? memchr(z1 + 1, '\0', (size_t)(end - z1 - 1)) : NULL;
    if (z2) {
        user = p;
        realm = z1 + 1;
        p = z2 + 1;
    }
    size_t len = (size_t)(end - p);
    char *text = malloc(len ? len : 1);
    if (!text)
        return 0;
    memcpy(text, p, len);
    unsigned char old[16], ha1[16], got[16];
    bool valid = htdigest_name_ok(user) && htdigest_name_ok(realm);
    bool found = htdigest_find(text, len, user, realm, old);
    if (found && !valid)
        abort();
    /* a new HA1: from the names and the text's length as a password */
    char pw[32];
    snprintf(pw, sizeof(pw), "pw%zu", len);
    if (!htdigest_ha1(user, realm, pw, ha1))
        abort();
    struct buf out = {0};
    char err[HTDIGEST_ERR_MAX];
    if (!htdigest_set(text, len, user, realm, ha1, &out, err, sizeof(err))) {
        if (valid || out.data || err[0] == '\0')
            abort();
        free(text);
        return 0;
    }
    if (!valid || out.cap != buf_len(&out))
        abort();
    const char *o = buf_rptr(&out);
    size_t olen = buf_len(&out);
    if (found) {
        if (olen != len)
            abort();
        /* the differing bytes are lowercase hex digits in both */
        for (size_t i = 0; i < len; i++)
            if (o[i] != text[i] && (!strchr("0123456789abcdef", o[i]) || o[i] == '\0' ||
                                    !strchr("0123456789abcdef", text[i]) || text[i] == '\0'))
                abort();
    } else {
        size_t ul = strlen(user), rl = strlen(realm);
        if (olen < len + ul + rl + 35 || memcmp(o, text, len) != 0)
            abort();
    }
    if (!htdigest_find(o, olen, user, realm, got) || memcmp(got, ha1, 16) != 0)
        abort();
    /* the first well-formed account of the old text other than ours keeps
     * its HA1 (its line is found again by its own names) */
    char u[HTDIGEST_NAME_MAX + 1], r[HTDIGEST_NAME_MAX + 1];
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t e = nl ? (size_t)(nl - text) : len;
        const char *c1 = memchr(text + pos, ':', e - pos);
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(text + e - c1 - 1)) : NULL;
        if (c2 && (size_t)(c1 - text - pos) <= HTDIGEST_NAME_MAX &&
            (size_t)(c2 - c1 - 1) <= HTDIGEST_NAME_MAX) {
            memcpy(u, text + pos, (size_t)(c1 - text - pos));
            u[c1 - text - pos] = '\0';
            memcpy(r, c1 + 1, (size_t)(c2 - c1 - 1));
            r[c2 - c1 - 1] = '\0';
            if ((strcmp(u, user) != 0 || strcmp(r, realm) != 0) &&
                htdigest_find(text, len, u, r, old)) {
                if (!htdigest_find(o, olen, u, r, got) || memcmp(got, old, 16) != 0)
                    abort();
                break;
            }
        }
        pos = e + 1;
    }
    buf_fini(&out);
    free(text);
    return 0;
}

/* fuzz_dnsbl_name - libFuzzer target for proto/dnsbl_name.
 *
 * Input: byte 0 picks the list (bit 0: SURBL), bytes 1..4 are the answer's
 * A record; the rest is "<subject>\n<zone>" (no '\n': all subject, empty
 * zone), each copied into a buffer of exactly its size. Besides crashes,
 * it checks the promises:
 *   - a query name is at most DNSBL_NAME_MAX bytes, NUL-terminated at its
 *     length, made of [a-z0-9._-], and ends in "." and the zone lower-cased;
 *     it is produced only for a valid zone; an RBL name has 4 or 32
 *     labels before the zone, each one character (IPv6) or a decimal octet;
 *   - a failure leaves an empty string;
 *   - a detection name starts with SEKISHO/SPAM_RBL/ or SEKISHO/SPAM_SURBL/,
 *     ends in "[<zone>:<reply>]", fits SCANREQ_NAME_MAX and the buffer
 *     (also a small one), and only for a valid zone;
 *   - the answer class is one of the three.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/dnsbl_name.h"
#include "proto/scanreq.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static void check_query(const char *q, size_t n, struct str zone, int rbl)
{
    check(n <= DNSBL_NAME_MAX && q[n] == '\0' && strlen(q) == n);
    check(n > zone.len + 1 && q[n - zone.len - 1] == '.');
    for (size_t i = 0; i < zone.len; i++)
        check(q[n - zone.len + i] == lower(zone.ptr[i]));
    for (size_t i = 0; i < n; i++) {
        char c = q[i];
        check((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.');
    }
    if (rbl) {
        size_t labels = 0, label = 0;
        for (size_t i = 0; i < n - zone.len; i++) {
            if (q[i] == '.') {
                check(label >= 1 && label <= 3);
                labels++;
                label = 0;
            } else {
                label++;
            }
        }
        check(labels == 4 || labels == 32);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    enum dnsbl_list list = (data[0] & 1) ? DNSBL_SURBL : DNSBL_RBL;
    const unsigned char *reply = data + 1;
    const char *rest = (const char *)data + 5;
    size_t len = size - 5;
    const char *nl = memchr(rest, '\n', len);
    size_t slen = nl ? (size_t)(nl - rest) : len;
    size_t zlen = nl ? len - slen - 1 : 0;
    char *subj = malloc(slen ? slen : 1);
    char *zbuf = malloc(zlen ? zlen : 1);
    if (!subj || !zbuf) {
        free(subj);
        free(zbuf);
        return 0;
    }
    memcpy(subj, rest, slen);
    if (zlen)
        memcpy(zbuf, nl + 1, zlen);
    struct str s = str_make(subj, slen), z = str_make(zbuf, zlen);

    bool zone_ok = dnsbl_zone_valid(z);
    char q[DNSBL_NAME_MAX + 1];
    size_t qn = list == DNSBL_RBL ? dnsbl_rbl_query(s, z, q, sizeof(q))
                                  : dnsbl_surbl_query(s, z, q, sizeof(q));
    if (qn) {
        check(zone_ok);
        check_query(q, qn, z, list == DNSBL_RBL);
    } else {
        check(q[0] == '\0');
    }

    enum dnsbl_answer a = dnsbl_classify(list, reply);
    check(a == DNSBL_LISTED || a == DNSBL_REFUSED || a == DNSBL_UNEXPECTED);
    check((a == DNSBL_UNEXPECTED) == (reply[0] != 127));

    char name[SCANREQ_NAME_MAX + 1], small[24];
    size_t nn = dnsbl_detection_name(list, s, z, reply, name, sizeof(name));
    if (nn) {
        /* No check against qn: a name can be formed where the query would
         * not fit (a long zone after IPv6's 64 nibble characters, or a
         * SURBL domain); callers form names only after an answer. */
        check(zone_ok && nn <= SCANREQ_NAME_MAX && name[nn] == '\0' && strlen(name) == nn);
        const char *prefix = list == DNSBL_RBL ? "SEKISHO/SPAM_RBL/" : "SEKISHO/SPAM_SURBL/";
        check(strncmp(name, prefix, strlen(prefix)) == 0);
        char tail[DNSBL_NAME_MAX + 24];
        int tn = snprintf(tail, sizeof(tail), "[%.*s:%u.%u.%u.%u]", (int)z.len, z.ptr, reply[0],
                          reply[1], reply[2], reply[3]);
        check(tn > 0 && (size_t)tn < nn && memcmp(name + nn - (size_t)tn, tail, (size_t)tn) == 0);
        size_t sn = dnsbl_detection_name(list, s, z, reply, small, sizeof(small));
        check(sn == (nn < sizeof(small) ? nn : 0));
    } else {
        check(name[0] == '\0');
    }
    free(subj);
    free(zbuf);
    return 0;
}

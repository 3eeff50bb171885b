/* fuzz_url_hosts - libFuzzer target for proto/url_hosts (and, on its
 * hosts, proto/surbl_domain).
 *
 * Input: byte 0 picks the part kind (bit 0: HTML) and, with byte 1, the
 * split point; the rest is a body part, copied into a buffer of exactly
 * its size. The part is read whole, split in two at the chosen point, and
 * (up to 1 KiB) byte by byte. Besides crashes, it checks the promises:
 *   - every host is 1..URL_HOST_MAX bytes of [a-z0-9._-], not ending in
 *     '.', or an IPv6 literal "[...]" of [0-9a-f:.];
 *   - no host is reported twice; at most URL_HOSTS_MAX hosts;
 *   - the hosts (in order) and the counters do not depend on the chunking;
 *   - surbl_domain's domain is the host itself or a suffix of it starting
 *     after a '.', and an IPv6 literal is SURBL_IP.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/surbl_domain.h"
#include "proto/url_hosts.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

static struct url_hosts whole, split, bytes;

static void run(struct url_hosts *u, enum url_part_kind kind, const char *in, size_t len,
                size_t cut, size_t step)
{
    url_hosts_init(u);
    url_hosts_begin(u, kind);
    if (step) {
        for (size_t i = 0; i < len; i += step)
            url_hosts_feed(u, in + i, len - i < step ? len - i : step);
    } else {
        url_hosts_feed(u, in, cut);
        url_hosts_feed(u, in + cut, len - cut);
    }
    url_hosts_end(u);
}

static void check_host(struct str h)
{
    check(h.len >= 1 && h.len <= URL_HOST_MAX && h.ptr[h.len] == '\0');
    struct str d;
    enum surbl_host k = surbl_domain(h, &d);
    if (h.ptr[0] == '[') {
        check(h.len >= 3 && h.ptr[h.len - 1] == ']');
        for (size_t i = 1; i + 1 < h.len; i++) {
            char c = h.ptr[i];
            check((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.');
        }
        check(k == SURBL_IP);
        return;
    }
    check(h.ptr[h.len - 1] != '.');
    for (size_t i = 0; i < h.len; i++) {
        char c = h.ptr[i];
        check((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.');
    }
    if (k == SURBL_DOMAIN) {
        check(d.len > 0 && d.len <= h.len && d.ptr + d.len == h.ptr + h.len);
        check(d.len == h.len || d.ptr[-1] == '.');
    } else {
        check(d.len == 0);
    }
}

static int same(const struct url_hosts *a, const struct url_hosts *b)
{
    if (a->n != b->n || a->dropped != b->dropped || a->invalid != b->invalid)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (!str_eq(url_hosts_get(a, i), url_hosts_get(b, i)))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    enum url_part_kind kind = (data[0] & 1) ? URL_PART_HTML : URL_PART_TEXT;
    size_t len = size - 2;
    size_t cut = len ? (((size_t)data[0] >> 1) << 8 | data[1]) % (len + 1) : 0;
    char *in = malloc(len ? len : 1);
    if (!in)
        return 0;
    memcpy(in, data + 2, len);

    run(&whole, kind, in, len, len, 0);
    check(whole.n <= URL_HOSTS_MAX);
    for (size_t i = 0; i < whole.n; i++) {
        struct str h = url_hosts_get(&whole, i);
        check_host(h);
        for (size_t j = 0; j < i; j++)
            check(!str_eq(h, url_hosts_get(&whole, j)));
    }
    run(&split, kind, in, len, cut, 0);
    check(same(&whole, &split));
    if (len <= 1024) {
        run(&bytes, kind, in, len, 0, 1);
        check(same(&whole, &bytes));
    }
    free(in);
    return 0;
}

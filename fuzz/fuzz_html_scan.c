/* fuzz_html_scan - libFuzzer target for proto/html_scan.
 *
 * Input: a decoded HTML mail body. The input is copied into a buffer of
 * exactly its size (ASan catches a one-byte over-read even when the
 * fuzzer's own buffer is larger). Besides crashes, it checks the
 * scanner's promises:
 *   - every part is a non-empty view inside the input (its bytes are
 *     read, so a bad view faults under ASan);
 *   - only HTML_F_SCRIPT and HTML_F_ACTIVEX are returned; parts other
 *     than a whole <object>/<embed>/<applet> tag come with HTML_F_SCRIPT;
 *   - the flags do not depend on the callback (fn = NULL gives the same);
 *   - stopping after the first part calls back exactly once;
 *   - the parts do not add up to more than a few times the input (each
 *     byte is handed over a bounded number of times).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/html_scan.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

static volatile unsigned sink;

static bool is_tag(struct str part, const char *open)
{
    size_t n = strlen(open);
    return part.len >= n && str_caseeq(str_make(part.ptr, n), str_make(open, n));
}

struct state {
    const char *in;
    size_t len;
    size_t parts, bytes, tags;
    unsigned sum;
};

static bool part_fn(void *arg, struct str part)
{
    struct state *s = arg;
    check(part.ptr != NULL && part.len > 0);
    check(part.ptr >= s->in && part.len <= s->len &&
          (size_t)(part.ptr - s->in) <= s->len - part.len);
    for (size_t i = 0; i < part.len; i++)
        s->sum += (unsigned char)part.ptr[i];
    /* Might be an <object>, <embed> or <applet> tag, handed over whole
     * (a script body or value may look the same: counted too). */
    if (is_tag(part, "<object") || is_tag(part, "<embed") || is_tag(part, "<applet"))
        s->tags++;
    s->parts++;
    s->bytes += part.len;
    return true;
}

static bool stop_fn(void *arg, struct str part)
{
    (void)part;
    (*(unsigned *)arg)++;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    if (!in)
        return 0;
    memcpy(in, data, size);

    struct state s = {.in = in, .len = size};
    unsigned flags = html_scan(in, size, part_fn, &s);
    check((flags & ~(HTML_F_SCRIPT | HTML_F_ACTIVEX)) == 0);
    check(html_scan(in, size, NULL, NULL) == flags);
    if (s.parts > s.tags)
        check(flags & HTML_F_SCRIPT);
    /* The overlap allowed by the design is small: at most a few readings. */
    check(s.bytes <= 8 * (size + 1));

    unsigned calls = 0;
    unsigned first = html_scan(in, size, stop_fn, &calls);
    check(calls == (s.parts ? 1u : 0u));
    check((first & ~flags) == 0);
    if (s.parts == 0)
        check(first == flags);

    sink += s.sum;
    free(in);
    return 0;
}

/* fuzz_rspamd_reply - libFuzzer target for proto/rspamd_reply.
 *
 * Input: the bytes of an HTTP reply body from rspamd (untrusted: anything
 * listening on the configured address may answer). Seeds are replies
 * captured from rspamd 3.4. Besides crashes, over-reads (ASan, the input
 * is a buffer of exactly its size) and UB, it checks the promises:
 *   - a rejected input leaves a reason and no field set;
 *   - strings are NUL-terminated within their bounds, the action at most
 *     RSPAMD_REPLY_ACTION_MAX bytes;
 *   - nkept <= RSPAMD_REPLY_SYMBOLS_MAX and <= nsymbols, kept symbols in
 *     reply order, and none left out scores higher than one kept;
 *   - the top symbols have positive scores in non-increasing order;
 *   - the detection name starts with the prefix, fits SCANREQ_NAME_MAX
 *     and a small buffer, and after the prefix holds only [A-Za-z0-9_]
 *     and "/.+-" characters;
 *   - parsing is deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rspamd_reply.h"
#include "proto/scanreq.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

static void check_name(const struct rspamd_reply *r, size_t cap)
{
    char name[SCANREQ_NAME_MAX + 1];
    check(cap <= sizeof(name));
    size_t n = rspamd_reply_name(r, name, cap);
    check(n < cap && name[n] == '\0' && strlen(name) == n);
    if (n == 0)
        return;
    size_t plen = strlen(RSPAMD_REPLY_NAME_PREFIX);
    check(n > plen && memcmp(name, RSPAMD_REPLY_NAME_PREFIX, plen) == 0);
    for (size_t i = plen; i < n; i++) {
        char c = name[i];
        check((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '/' || c == '.' || c == '+' || c == '-');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rspamd_reply r, again;
    char err[96];
    enum rspamd_reply_status st =
        rspamd_reply_parse((const char *)data, size, &r, err, sizeof(err));
    check(st == RSPAMD_REPLY_OK || st == RSPAMD_REPLY_BAD);
    if (st == RSPAMD_REPLY_BAD) {
        check(err[0] != '\0' && strlen(err) < sizeof(err));
        check(!r.has_action && !r.has_error && r.nsymbols == 0);
        return 0;
    }
    check(rspamd_reply_parse((const char *)data, size, &again, NULL, 0) == RSPAMD_REPLY_OK);
    check(memcmp(&r, &again, sizeof(r)) == 0 || r.score != r.score);
    check(strlen(r.action) <= RSPAMD_REPLY_ACTION_MAX);
    check(r.has_action || r.action[0] == '\0');
    check(strlen(r.error) <= RSPAMD_REPLY_ERROR_MAX);
    check(r.nkept <= RSPAMD_REPLY_SYMBOLS_MAX && r.nkept <= r.nsymbols);
    check(r.nkept == r.nsymbols || r.nkept == RSPAMD_REPLY_SYMBOLS_MAX);
    double lowest = 0;
    for (unsigned i = 0; i < r.nkept; i++) {
        check(strlen(r.symbols[i].name) <= RSPAMD_REPLY_SYMBOL_MAX);
        check(r.symbols[i].order < r.nsymbols);
        if (i > 0)
            check(r.symbols[i].order > r.symbols[i - 1].order);
        if (i == 0 || r.symbols[i].score < lowest)
            lowest = r.symbols[i].score;
    }
    unsigned idx[RSPAMD_REPLY_TOP];
    unsigned ntop = rspamd_reply_top(&r, idx, RSPAMD_REPLY_TOP);
    check(ntop <= RSPAMD_REPLY_TOP);
    for (unsigned i = 0; i < ntop; i++) {
        check(idx[i] < r.nkept && r.symbols[idx[i]].score > 0);
        if (i > 0)
            check(r.symbols[idx[i]].score <= r.symbols[idx[i - 1]].score);
    }
    check_name(&r, SCANREQ_NAME_MAX + 1);
    check_name(&r, 48);
    check_name(&r, 1);
    (void)rspamd_reply_is_spam(r.action);
    (void)lowest;
    return 0;
}

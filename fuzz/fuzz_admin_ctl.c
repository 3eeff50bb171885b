/* fuzz_admin_ctl - libFuzzer target for proto/admin_ctl.
 *
 * Input: one datagram as the controller (request) or the web process
 * (reply) receives it. The controller runs as root and takes requests
 * from the unprivileged web process, so any crash, over-read (the frame
 * is a buffer of exactly its size) or UB is a bug; so is a decoded frame
 * that is not canonical (encoding the decoded value must give the same
 * bytes back), a decoded request the validator refuses or whose file or
 * service has no name, or a reply text that is not NUL-terminated, holds
 * a NUL, or is longer than ADMIN_CTL_TEXT_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/admin_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *in = malloc(size ? size : 1);
    if (in == NULL)
        return 0;
    memcpy(in, data, size);

    struct admin_ctl_request rq;
    if (admin_ctl_decode_request(in, size, &rq)) {
        unsigned char again[ADMIN_CTL_REQUEST_LEN];
        if (!admin_ctl_request_valid(&rq) || size != ADMIN_CTL_REQUEST_LEN ||
            admin_ctl_encode_request(&rq, again) != size || memcmp(again, in, size) != 0)
            abort();
        if ((rq.op == ADMIN_CTL_WRITE_FILE || rq.op == ADMIN_CTL_READ_FILE) &&
            admin_ctl_file_path(rq.arg) == NULL)
            abort();
        if (rq.op == ADMIN_CTL_SERVICE &&
            (admin_ctl_service_name(rq.arg) == NULL || admin_ctl_verb_name(rq.verb) == NULL))
            abort();
        /* NAT names a proxy (never scand, which has no port to redirect to) */
        if (rq.op == ADMIN_CTL_NAT &&
            (rq.arg >= ADMIN_SVC_SCAND || admin_ctl_verb_name(rq.verb) == NULL))
            abort();
    }

    static struct admin_ctl_reply rp;
    if (admin_ctl_decode_reply(in, size, &rp)) {
        static unsigned char again[ADMIN_CTL_REPLY_MAX];
        if (rp.text_len > ADMIN_CTL_TEXT_MAX || rp.text[rp.text_len] != 0 ||
            strlen(rp.text) != rp.text_len)
            abort();
        if (rp.op <= 0 || rp.op >= ADMIN_CTL_OP_END)
            abort();
        if (admin_ctl_encode_reply(rp.op, rp.status, rp.text, rp.text_len, again) != size ||
            memcmp(again, in, size) != 0)
            abort();
    }
    free(in);
    return 0;
}

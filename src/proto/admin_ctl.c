/* admin_ctl - see admin_ctl.h. */
#include "proto/admin_ctl.h"

#include <string.h>

static const char *const file_paths[ADMIN_FILE_COUNT] = {
#define ADMIN_CTL_FILE_PATH(id, path) [id] = path,
    ADMIN_CTL_FILES(ADMIN_CTL_FILE_PATH)
#undef ADMIN_CTL_FILE_PATH
};

static const char *const service_names[ADMIN_SVC_COUNT] = {"http", "smtp", "pop", "ftp", "scand"};

static const char *const verb_names[ADMIN_VERB_COUNT] = {"",       "start", "stop", "restart",
                                                         "status", "on",    "off",  "reload"};

const char *admin_ctl_file_path(unsigned file)
{
    return file < ADMIN_FILE_COUNT ? file_paths[file] : NULL;
}

const char *admin_ctl_service_name(unsigned svc)
{
    return svc < ADMIN_SVC_COUNT ? service_names[svc] : NULL;
}

const char *admin_ctl_verb_name(unsigned verb)
{
    return verb > ADMIN_VERB_NONE && verb < ADMIN_VERB_COUNT ? verb_names[verb] : NULL;
}

bool admin_ctl_request_valid(const struct admin_ctl_request *rq)
{
    switch (rq->op) {
    case ADMIN_CTL_WRITE_FILE:
    case ADMIN_CTL_READ_FILE:
        return rq->arg < ADMIN_FILE_COUNT && rq->verb == ADMIN_VERB_NONE;
    case ADMIN_CTL_SERVICE:
        return rq->arg < ADMIN_SVC_COUNT &&
               ((rq->verb >= ADMIN_VERB_START && rq->verb <= ADMIN_VERB_STATUS) ||
                rq->verb == ADMIN_VERB_RELOAD);
    case ADMIN_CTL_AUTOUPDATE:
        return rq->arg == 0 && (rq->verb == ADMIN_VERB_ON || rq->verb == ADMIN_VERB_OFF ||
                                rq->verb == ADMIN_VERB_STATUS);
    case ADMIN_CTL_NAT:
        /* sekisho-scand listens on no port: there is nothing to redirect. */
        if (rq->verb == ADMIN_VERB_ON || rq->verb == ADMIN_VERB_OFF)
            return rq->arg < ADMIN_SVC_SCAND;
        return rq->arg == 0 && rq->verb == ADMIN_VERB_STATUS;
    case ADMIN_CTL_DBUPDATE:
    case ADMIN_CTL_DIAG:
        return rq->arg == 0 && rq->verb == ADMIN_VERB_NONE;
    default:
        return false;
    }
}

size_t admin_ctl_encode_request(const struct admin_ctl_request *rq,
                                unsigned char out[ADMIN_CTL_REQUEST_LEN])
{
    if (!admin_ctl_request_valid(rq))
        return 0;
    memcpy(out, "SKA1", 4);
    out[4] = (unsigned char)rq->op;
    out[5] = (unsigned char)rq->arg;
    out[6] = (unsigned char)rq->verb;
    out[7] = 0;
    return ADMIN_CTL_REQUEST_LEN;
}

bool admin_ctl_decode_request(const unsigned char *in, size_t len, struct admin_ctl_request *rq)
{
    if (len != ADMIN_CTL_REQUEST_LEN || memcmp(in, "SKA1", 4) != 0 || in[7] != 0)
        return false;
    rq->op = (enum admin_ctl_op)in[4];
    rq->arg = in[5];
    rq->verb = in[6];
    return admin_ctl_request_valid(rq);
}

size_t admin_ctl_encode_reply(enum admin_ctl_op op, int status, const char *text, size_t text_len,
                              unsigned char out[ADMIN_CTL_REPLY_MAX])
{
    if (op <= 0 || op >= ADMIN_CTL_OP_END)
        return 0;
    /* The tail of a command's output is what says why it failed. */
    if (text_len > ADMIN_CTL_TEXT_MAX) {
        text += text_len - ADMIN_CTL_TEXT_MAX;
        text_len = ADMIN_CTL_TEXT_MAX;
    }
    uint32_t s = (uint32_t)status;
    memcpy(out, "SKB1", 4);
    out[4] = (unsigned char)op;
    out[5] = 0;
    out[6] = (unsigned char)(s >> 24);
    out[7] = (unsigned char)(s >> 16);
    out[8] = (unsigned char)(s >> 8);
    out[9] = (unsigned char)s;
    out[10] = (unsigned char)(text_len >> 8);
    out[11] = (unsigned char)text_len;
    if (text_len > 0)
        memcpy(out + 12, text, text_len);
    return 12 + text_len;
}

bool admin_ctl_decode_reply(const unsigned char *in, size_t len, struct admin_ctl_reply *rp)
{
    if (len < 12 || memcmp(in, "SKB1", 4) != 0 || in[5] != 0)
        return false;
    if (in[4] == 0 || in[4] >= ADMIN_CTL_OP_END)
        return false;
    size_t text_len = (size_t)in[10] << 8 | in[11];
    if (text_len > ADMIN_CTL_TEXT_MAX || len != 12 + text_len)
        return false;
    if (memchr(in + 12, 0, text_len) != NULL)
        return false;
    uint32_t s = (uint32_t)in[6] << 24 | (uint32_t)in[7] << 16 | (uint32_t)in[8] << 8 | in[9];
    rp->op = (enum admin_ctl_op)in[4];
    rp->status = (int)s;
    rp->text_len = text_len;
    memcpy(rp->text, in + 12, text_len);
    rp->text[text_len] = 0;
    return true;
}

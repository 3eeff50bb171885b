/* pop3_parse - POP3 command lines, USER targets, status lines and
 * multi-line bodies. */
#include "proto/pop3_parse.h"

#include <string.h>

#include "proto/text_line.h"
#include "proto/user_target.h"

const char *pop3_result_name(enum pop3_result r)
{
    switch (r) {
    case POP3_DONE:
        return "DONE";
    case POP3_AGAIN:
        return "AGAIN";
    case POP3_INVALID:
        return "INVALID";
    case POP3_TOO_LONG:
        return "TOO_LONG";
    }
    return "?";
}

const char *pop3_user_status_name(enum pop3_user_status s)
{
    switch (s) {
    case POP3_USER_PLAIN:
        return "PLAIN";
    case POP3_USER_TARGET:
        return "TARGET";
    case POP3_USER_SYNTAX:
        return "SYNTAX";
    }
    return "?";
}

const char *pop3_status_kind_name(enum pop3_status_kind k)
{
    switch (k) {
    case POP3_ST_OK:
        return "+OK";
    case POP3_ST_ERR:
        return "-ERR";
    case POP3_ST_CONT:
        return "+";
    }
    return "?";
}

/* is_bad_ctl - a control byte other than HT, or DEL. */
static bool is_bad_ctl(char c)
{
    return ((unsigned char)c < 0x20 && c != '\t') || c == 0x7f;
}

static bool has_bad_ctl(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_bad_ctl(p[i]))
            return true;
    return false;
}

/* ---- lines -------------------------------------------------------------- */

/* find_line - text_line_find in this parser's result codes. */
static enum pop3_result find_line(const char *buf, size_t len, size_t max, size_t *line_len,
                                  size_t *consumed)
{
    switch (text_line_find(buf, len, max, line_len, consumed)) {
    case TEXT_LINE_DONE:
        return POP3_DONE;
    case TEXT_LINE_TOO_LONG:
        return POP3_TOO_LONG;
    default:
        return POP3_AGAIN;
    }
}

size_t pop3_line_discard(const char *buf, size_t len, bool *ended)
{
    return text_line_discard(buf, len, ended);
}

struct str pop3_arg_trim(struct str arg)
{
    return text_line_trim(arg);
}

/* ---- commands ----------------------------------------------------------- */

static const struct {
    enum pop3_verb verb;
    const char *name;
} verbs[] = {
    {POP3_V_USER, "USER"}, {POP3_V_PASS, "PASS"}, {POP3_V_APOP, "APOP"}, {POP3_V_AUTH, "AUTH"},
    {POP3_V_UIDL, "UIDL"}, {POP3_V_TOP, "TOP"},   {POP3_V_STAT, "STAT"}, {POP3_V_LIST, "LIST"},
    {POP3_V_RETR, "RETR"}, {POP3_V_DELE, "DELE"}, {POP3_V_NOOP, "NOOP"}, {POP3_V_RSET, "RSET"},
    {POP3_V_QUIT, "QUIT"}, {POP3_V_CAPA, "CAPA"}, {POP3_V_STLS, "STLS"}, {POP3_V_UTF8, "UTF8"},
};

const char *pop3_verb_name(enum pop3_verb v)
{
    if (v == POP3_V_UNKNOWN)
        return "UNKNOWN";
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (verbs[i].verb == v)
            return verbs[i].name;
    return "?";
}

static enum pop3_verb verb_lookup(struct str w)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (str_caseeq_cstr(w, verbs[i].name))
            return verbs[i].verb;
    return POP3_V_UNKNOWN;
}

enum pop3_result pop3_command_find(const char *buf, size_t len, struct pop3_command *out,
                                   size_t *consumed)
{
    size_t line_len = 0, used = 0;
    enum pop3_result r = find_line(buf, len, POP3_LINE_MAX, &line_len, &used);
    if (r != POP3_DONE)
        return r;
    const char *p = buf;
    size_t i = 0;
    while (i < line_len && text_line_is_blank(p[i]))
        i++;
    size_t v = i;
    while (i < line_len && !text_line_is_blank(p[i]))
        i++;
    out->line = str_make(p, line_len);
    out->verb_text = str_make(p + v, i - v);
    if (i < line_len)
        i++; /* the one separating blank */
    out->arg = str_make(p + i, line_len - i);
    out->verb = verb_lookup(out->verb_text);
    *consumed = used;
    if (has_bad_ctl(p, line_len)) {
        out->verb = POP3_V_UNKNOWN;
        return POP3_INVALID;
    }
    return POP3_DONE;
}

bool pop3_reply_is_multiline(const struct pop3_command *c)
{
    switch (c->verb) {
    case POP3_V_RETR:
    case POP3_V_TOP:
    case POP3_V_CAPA:
        return true;
    case POP3_V_LIST:
    case POP3_V_UIDL:
    case POP3_V_AUTH:
        return pop3_arg_trim(c->arg).len == 0;
    default:
        return false;
    }
}

/* ---- USER name@host ----------------------------------------------------- */

enum pop3_user_status pop3_user_split(struct str arg, struct pop3_user_target *out)
{
    struct user_target t;
    switch (user_target_split(arg, &t)) {
    case USER_TARGET_PLAIN:
        *out = (struct pop3_user_target){t.name, t.host, t.port, t.ipv6};
        return POP3_USER_PLAIN;
    case USER_TARGET_HOST:
        *out = (struct pop3_user_target){t.name, t.host, t.port, t.ipv6};
        return POP3_USER_TARGET;
    default:
        return POP3_USER_SYNTAX;
    }
}

/* ---- status lines ------------------------------------------------------- */

/* indicator - the status indicator at the start of buf[0..n), where n
 * may end before the line does (ended = false). Returns 1 when it is one
 * (kind and length set), 0 when the bytes so far may still become one,
 * -1 when they cannot. The indicator must be followed by a blank or the
 * line end. */
static int indicator(const char *buf, size_t n, bool ended, enum pop3_status_kind *kind,
                     size_t *ind_len)
{
    static const struct {
        const char *text;
        enum pop3_status_kind kind;
    } ind[] = {{"+OK", POP3_ST_OK}, {"-ERR", POP3_ST_ERR}, {"+", POP3_ST_CONT}};
    bool maybe = false;
    for (size_t k = 0; k < sizeof(ind) / sizeof(ind[0]); k++) {
        size_t il = strlen(ind[k].text);
        if (n < il) {
            /* a prefix of the indicator: may still be it */
            if (!ended && str_has_caseprefix(str_make(ind[k].text, il), str_make(buf, n)))
                maybe = true;
            continue;
        }
        if (!str_has_caseprefix(str_make(buf, n), str_make(ind[k].text, il)))
            continue;
        if (n == il && !ended) {
            maybe = true; /* a blank or the line end must follow */
            continue;
        }
        if (n > il && !text_line_is_blank(buf[il]))
            continue; /* "+OKAY", "-ERROR", "+x" */
        if (maybe)
            return 0; /* "+" so far could still be "+OK" */
        *kind = ind[k].kind;
        *ind_len = il;
        return 1;
    }
    return maybe ? 0 : -1;
}

enum pop3_result pop3_status_find(const char *buf, size_t len, struct pop3_status *out,
                                  size_t *consumed)
{
    size_t line_len = 0, used = 0;
    enum pop3_result r = find_line(buf, len, POP3_STATUS_LINE_MAX, &line_len, &used);
    bool ended = r == POP3_DONE;
    /* The bytes that belong to the line so far: a CR at the end of an
     * unfinished line may be the CR of its CR LF. */
    size_t seen =
        ended ? line_len : (len < POP3_STATUS_LINE_MAX + 1 ? len : POP3_STATUS_LINE_MAX + 1);
    if (!ended && seen > 0 && buf[seen - 1] == '\r')
        seen--;
    /* A bad start or a control byte is INVALID as soon as it is there,
     * before the line end and whatever the length: the verdict is the
     * same however many bytes follow. */
    enum pop3_status_kind kind = POP3_ST_OK;
    size_t il = 0;
    int m = indicator(buf, seen, ended, &kind, &il);
    if (m < 0 || has_bad_ctl(buf, seen))
        return POP3_INVALID;
    if (!ended)
        return r;
    out->kind = kind;
    out->line = str_make(buf, line_len);
    size_t t = il < line_len ? il + 1 : il;
    out->text = str_make(buf + t, line_len - t);
    *consumed = used;
    return POP3_DONE;
}

bool pop3_status_format(struct buf *out, bool ok, const char *text)
{
    const char *ind = ok ? "+OK" : "-ERR";
    size_t ilen = strlen(ind);
    text = text ? text : "";
    /* indicator + " " + text + CRLF */
    size_t tlen = strnlen(text, POP3_STATUS_FORMAT_MAX - ilen - 3);
    size_t saved = out->wpos;
    bool good = buf_append(out, ind, ilen);
    if (good && tlen > 0)
        good = buf_append(out, " ", 1);
    for (size_t i = 0; good && i < tlen; i++) {
        char c = is_bad_ctl(text[i]) || text[i] == '\t' ? ' ' : text[i];
        good = buf_append(out, &c, 1);
    }
    if (good)
        good = buf_append(out, "\r\n", 2);
    if (!good)
        out->wpos = saved;
    return good;
}

/* ---- multi-line bodies -------------------------------------------------- */

void pop3_body_init(struct pop3_body *b)
{
    smtp_dot_decoder_init(&b->dec);
    b->wire_len = 0;
    b->data_len = 0;
}

enum pop3_result pop3_body_decode(struct pop3_body *b, const char *in, size_t len, char *out,
                                  size_t cap, size_t *used, size_t *written)
{
    *used = 0;
    *written = 0;
    if (cap < 2)
        return POP3_INVALID;
    if (b->dec.done)
        return POP3_DONE;
    if (b->wire_len >= POP3_BODY_MAX)
        return POP3_TOO_LONG;
    size_t n = len < cap - 1 ? len : cap - 1;
    if (n > POP3_BODY_MAX - b->wire_len)
        n = (size_t)(POP3_BODY_MAX - b->wire_len);
    *written = smtp_dot_decode(&b->dec, in, n, out, used);
    b->wire_len += *used;
    b->data_len += *written;
    if (b->dec.done)
        return POP3_DONE;
    return b->wire_len >= POP3_BODY_MAX ? POP3_TOO_LONG : POP3_AGAIN;
}

enum pop3_result pop3_body_skip(struct pop3_body *b, const char *in, size_t len, size_t *used)
{
    char scratch[4096];
    enum pop3_result r = b->dec.done ? POP3_DONE : POP3_AGAIN;
    size_t off = 0;
    /* Each round takes sizeof(scratch) - 1 bytes or stops: bounded by len. */
    while (r == POP3_AGAIN && off < len) {
        size_t u = 0, w = 0;
        r = pop3_body_decode(b, in + off, len - off, scratch, sizeof(scratch), &u, &w);
        off += u;
        if (u == 0)
            break;
    }
    *used = off;
    return r;
}

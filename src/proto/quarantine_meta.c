/* quarantine_meta - see quarantine_meta.h. */
#include "proto/quarantine_meta.h"

#include <inttypes.h>
#include <string.h>

static const char *const SERVICES[] = {"http", "smtp", "pop", "ftp"};

static bool service_known(struct str s)
{
    for (size_t i = 0; i < sizeof(SERVICES) / sizeof(SERVICES[0]); i++)
        if (str_eq_cstr(s, SERVICES[i]))
            return true;
    return false;
}

const char *qmeta_result_name(enum qmeta_result r)
{
    return r == QMETA_SPAM ? "SPAM" : "INFECTED";
}

bool qmeta_is_mail(const struct qmeta *m)
{
    return str_eq_cstr(m->service, "smtp") || str_eq_cstr(m->service, "pop");
}

/* ---- formatting ---------------------------------------------------------- */

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* put_value - v and a line end, control characters as '?', cut at
 * QMETA_VALUE_MAX. */
static bool put_value(struct buf *out, struct str v)
{
    size_t n = v.len < QMETA_VALUE_MAX ? v.len : QMETA_VALUE_MAX;
    for (size_t i = 0; i < n; i++) {
        char c = is_control((unsigned char)v.ptr[i]) ? '?' : v.ptr[i];
        if (!buf_append(out, &c, 1))
            return false;
    }
    return buf_append(out, "\n", 1);
}

/* put - "key: value\n". */
static bool put(struct buf *out, const char *key, struct str v)
{
    return buf_append_cstr(out, key) && buf_append(out, ": ", 2) && put_value(out, v);
}

bool qmeta_format(const struct qmeta *m, struct buf *out)
{
    if (!service_known(m->service) || m->url.len == 0 || m->nrcpt > QMETA_RCPT_MAX)
        return false;
    size_t mark = out->wpos;
    bool ok =
        buf_printf(out, "sekisho-quarantine: %u\ntime: %" PRId64 "\n", QMETA_VERSION, m->time) &&
        put(out, "service", m->service) &&
        put(out, "result", str_from_cstr(qmeta_result_name(m->result))) &&
        put(out, "detection", m->detection) && put(out, "client", m->client);
    if (ok && m->user.len)
        ok = put(out, "user", m->user);
    if (ok && m->has_sender)
        ok = put(out, "sender", m->sender);
    for (size_t i = 0; ok && i < m->nrcpt; i++)
        ok = put(out, "rcpt", m->rcpt[i]);
    if (ok && (m->nrcpt || m->rcpt_count))
        ok = buf_printf(out, "rcpt_count: %" PRIu64 "\n",
                        m->rcpt_count > m->nrcpt ? m->rcpt_count : (uint64_t)m->nrcpt);
    ok = ok && put(out, "url", m->url);
    if (ok && m->file.len)
        ok = put(out, "file", m->file);
    ok = ok && buf_printf(out, "size: %" PRIu64 "\n", m->size);
    if (ok && m->released)
        ok = buf_printf(out, "released: %" PRId64 " ", m->released_time) &&
             put_value(out, m->released_by);
    if (!ok || out->wpos - mark > QMETA_TEXT_MAX) {
        out->wpos = mark;
        return false;
    }
    return true;
}

/* ---- parsing ----------------------------------------------------------- */

enum key {
    K_VERSION,
    K_TIME,
    K_SERVICE,
    K_RESULT,
    K_DETECTION,
    K_CLIENT,
    K_USER,
    K_SENDER,
    K_RCPT,
    K_RCPT_COUNT,
    K_URL,
    K_FILE,
    K_SIZE,
    K_RELEASED,
    K_COUNT,
};

static const char *const KEYS[K_COUNT] = {
    "sekisho-quarantine",
    "time",
    "service",
    "result",
    "detection",
    "client",
    "user",
    "sender",
    "rcpt",
    "rcpt_count",
    "url",
    "file",
    "size",
    "released",
};

static bool num(struct str s, uint64_t max, uint64_t *out)
{
    return s.len > 0 && s.len <= 20 && str_to_u64(s, max, out);
}

/* released - "<time> <by>". */
static bool parse_released(struct str v, struct qmeta *m)
{
    struct str t, by;
    uint64_t n;
    if (!str_cut(v, ' ', &t, &by) || !num(t, INT64_MAX, &n))
        return false;
    m->released = true;
    m->released_time = (int64_t)n;
    m->released_by = by;
    return true;
}

/* field - one known key's value into m. */
static bool field(enum key k, struct str v, struct qmeta *m, const char **why)
{
    uint64_t n;
    switch (k) {
    case K_VERSION:
        if (!num(v, UINT32_MAX, &n) || n != QMETA_VERSION) {
            *why = "a version of the format this program does not read";
            return false;
        }
        m->version = (unsigned)n;
        return true;
    case K_TIME:
    case K_SIZE:
    case K_RCPT_COUNT:
        if (!num(v, k == K_TIME ? INT64_MAX : UINT64_MAX, &n)) {
            *why = "a number that is not one";
            return false;
        }
        if (k == K_TIME)
            m->time = (int64_t)n;
        else if (k == K_SIZE)
            m->size = n;
        else
            m->rcpt_count = n;
        return true;
    case K_SERVICE:
        if (!service_known(v)) {
            *why = "an unknown service";
            return false;
        }
        m->service = v;
        return true;
    case K_RESULT:
        if (str_eq_cstr(v, "INFECTED"))
            m->result = QMETA_INFECTED;
        else if (str_eq_cstr(v, "SPAM"))
            m->result = QMETA_SPAM;
        else {
            *why = "a result other than INFECTED or SPAM";
            return false;
        }
        return true;
    case K_DETECTION:
        m->detection = v;
        return true;
    case K_CLIENT:
        m->client = v;
        return true;
    case K_USER:
        m->user = v;
        return true;
    case K_SENDER:
        m->has_sender = true;
        m->sender = v;
        return true;
    case K_RCPT:
        if (m->nrcpt >= QMETA_RCPT_MAX || v.len == 0) {
            *why = "too many or empty rcpt lines";
            return false;
        }
        m->rcpt[m->nrcpt++] = v;
        return true;
    case K_URL:
        m->url = v;
        return true;
    case K_FILE:
        m->file = v;
        return true;
    case K_RELEASED:
        if (!parse_released(v, m)) {
            *why = "a released line without its time";
            return false;
        }
        return true;
    case K_COUNT:
        break;
    }
    return true;
}

static bool value_clean(struct str v)
{
    for (size_t i = 0; i < v.len; i++)
        if (is_control((unsigned char)v.ptr[i]))
            return false;
    return true;
}

bool qmeta_parse(struct str text, struct qmeta *m, const char **why)
{
    static const char *unused;
    if (!why)
        why = &unused;
    memset(m, 0, sizeof(*m));
    if (text.len > QMETA_TEXT_MAX) {
        *why = "larger than a meta file can be";
        return false;
    }
    unsigned seen = 0;
    size_t pos = 0;
    bool first = true;
    while (pos < text.len) {
        const char *nl = memchr(text.ptr + pos, '\n', text.len - pos);
        if (!nl) {
            *why = "a last line without its line end (a partial file)";
            return false;
        }
        struct str line = str_make(text.ptr + pos, (size_t)(nl - (text.ptr + pos)));
        pos += line.len + 1;
        struct str key, v;
        if (!str_cut(line, ':', &key, &v) || v.len == 0 || v.ptr[0] != ' ') {
            *why = "a line that is not \"key: value\"";
            return false;
        }
        v = str_make(v.ptr + 1, v.len - 1);
        if (v.len > QMETA_VALUE_MAX || !value_clean(v)) {
            *why = "a value too long or with a control character";
            return false;
        }
        enum key k = K_COUNT;
        for (int i = 0; i < K_COUNT; i++)
            if (str_eq_cstr(key, KEYS[i]))
                k = (enum key)i;
        if (first != (k == K_VERSION)) {
            *why = "not a quarantine meta file (no version on its first line)";
            return false;
        }
        first = false;
        if (k == K_COUNT)
            continue; /* a newer writer's key */
        if (k != K_RCPT && (seen & (1u << k))) {
            *why = "a key given twice";
            return false;
        }
        seen |= 1u << k;
        if (!field(k, v, m, why))
            return false;
    }
    const unsigned required = 1u << K_VERSION | 1u << K_TIME | 1u << K_SERVICE | 1u << K_RESULT |
                              1u << K_DETECTION | 1u << K_CLIENT | 1u << K_URL | 1u << K_SIZE;
    if ((seen & required) != required) {
        *why = "a required key is missing";
        return false;
    }
    if (m->rcpt_count < m->nrcpt)
        m->rcpt_count = m->nrcpt;
    return true;
}

/* ---- ids --------------------------------------------------------------- */

/* digits - a run of 1..19 decimal digits at *s, taken off it. */
static bool digits(struct str *s, uint64_t *out)
{
    size_t n = 0;
    while (n < s->len && s->ptr[n] >= '0' && s->ptr[n] <= '9')
        n++;
    if (n == 0 || n > 19 || !str_to_u64(str_make(s->ptr, n), UINT64_MAX, out))
        return false;
    *s = str_make(s->ptr + n, s->len - n);
    return true;
}

static bool take_char(struct str *s, char c)
{
    if (s->len == 0 || s->ptr[0] != c)
        return false;
    *s = str_make(s->ptr + 1, s->len - 1);
    return true;
}

bool qmeta_id_parse(struct str id, struct qmeta_id *out)
{
    struct qmeta_id tmp;
    if (!out)
        out = &tmp;
    if (id.len == 0 || id.len > QMETA_ID_MAX)
        return false;
    struct str svc, rest;
    if (!str_cut(id, '-', &svc, &rest) || !service_known(svc))
        return false;
    out->service = svc;
    return digits(&rest, &out->time) && take_char(&rest, '.') && digits(&rest, &out->pid) &&
           take_char(&rest, '.') && digits(&rest, &out->seq) && rest.len == 0;
}

bool qmeta_id_newer(const struct qmeta_id *a, const struct qmeta_id *b)
{
    if (a->time != b->time)
        return a->time > b->time;
    if (a->pid != b->pid)
        return a->pid > b->pid;
    if (a->seq != b->seq)
        return a->seq > b->seq;
    size_t n = a->service.len < b->service.len ? a->service.len : b->service.len;
    int c = memcmp(a->service.ptr, b->service.ptr, n);
    return c ? c > 0 : a->service.len > b->service.len;
}

void qmeta_rcpts_split(struct str joined, struct str *out, size_t cap, size_t *n)
{
    *n = 0;
    size_t start = 0;
    bool quoted = false;
    for (size_t i = 0; i <= joined.len; i++) {
        char c = i < joined.len ? joined.ptr[i] : ',';
        if (c == '\\' && quoted && i + 1 < joined.len) {
            i++;
            continue;
        }
        if (c == '"')
            quoted = !quoted;
        if (c != ',' || (quoted && i < joined.len))
            continue;
        struct str piece = str_trim(str_make(joined.ptr + start, i - start));
        start = i + 1;
        if (piece.len == 0)
            continue;
        if (*n < cap)
            out[*n] = piece;
        (*n)++;
    }
}

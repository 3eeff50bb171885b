/* progress_record - see progress_record.h. */
#include "proto/progress_record.h"

#include <inttypes.h>
#include <string.h>

#define MAGIC_LINE "SEKISHO-PROGRESS 1"

static const char *const state_names[] = {"downloading", "scanning", "clean", "infected", "error"};

const char *progress_state_name(enum progress_state st)
{
    return (unsigned)st < sizeof(state_names) / sizeof(state_names[0]) ? state_names[st]
                                                                       : "STATE_???";
}

/* put_text - key=value\n with CR, LF and NUL turned into spaces, so a
 * value can never forge the next line. */
static bool put_text(struct buf *out, const char *key, const char *value)
{
    if (!buf_printf(out, "%s=", key))
        return false;
    for (const char *p = value; *p; p++) {
        char c = (*p == '\r' || *p == '\n') ? ' ' : *p;
        if (!buf_append(out, &c, 1))
            return false;
    }
    return buf_append(out, "\n", 1);
}

bool progress_record_format(struct buf *out, const struct progress_record *r)
{
    size_t mark = out->wpos;
    bool ok = r->head.len <= PROGRESS_RECORD_HEAD_MAX && (unsigned)r->state <= PROGRESS_ERROR &&
              buf_printf(out,
                         MAGIC_LINE "\nstate=%s\nreceived=%" PRIu64 "\nexpected=%" PRIu64
                                    "\nstarted=%" PRId64 "\n",
                         progress_state_name(r->state), r->received, r->expected, r->started) &&
              put_text(out, "url", r->url) && put_text(out, "type", r->content_type) &&
              put_text(out, "detect", r->detect) && put_text(out, "error", r->error) &&
              buf_printf(out, "head=%zu\n", r->head.len) && buf_append_str(out, r->head);
    if (!ok)
        out->wpos = mark;
    return ok;
}

/* next_line - the next line of *rest (without its LF); false when there is
 * no LF. */
static bool next_line(struct str *rest, struct str *line)
{
    long lf = str_find_char(*rest, '\n');
    if (lf < 0)
        return false;
    *line = str_make(rest->ptr, (size_t)lf);
    *rest = str_make(rest->ptr + lf + 1, rest->len - (size_t)lf - 1);
    return true;
}

/* field - the next line must be key=value; value returned. */
static bool field(struct str *rest, const char *key, struct str *value)
{
    struct str line, k;
    if (!next_line(rest, &line) || !str_cut(line, '=', &k, value))
        return false;
    return str_eq_cstr(k, key);
}

static bool field_u64(struct str *rest, const char *key, uint64_t max, uint64_t *out)
{
    struct str v;
    /* No leading zeros: the format is canonical (what parses re-encodes
     * to the same bytes), as the writer never produces them. */
    return field(rest, key, &v) && !(v.len > 1 && v.ptr[0] == '0') && str_to_u64(v, max, out);
}

static bool field_text(struct str *rest, const char *key, char *dst, size_t cap)
{
    struct str v;
    if (!field(rest, key, &v) || v.len >= cap || memchr(v.ptr, '\0', v.len) ||
        memchr(v.ptr, '\r', v.len))
        return false;
    str_copy_view(dst, cap, v);
    return true;
}

bool progress_record_parse(const char *data, size_t len, struct progress_record *r)
{
    memset(r, 0, sizeof(*r));
    struct str rest = str_make(data, len), line, v;
    if (!next_line(&rest, &line) || !str_eq_cstr(line, MAGIC_LINE))
        return false;
    if (!field(&rest, "state", &v))
        return false;
    unsigned st = 0;
    while (st < sizeof(state_names) / sizeof(state_names[0]) && !str_eq_cstr(v, state_names[st]))
        st++;
    if (st >= sizeof(state_names) / sizeof(state_names[0]))
        return false;
    r->state = (enum progress_state)st;
    uint64_t started, head_len;
    if (!field_u64(&rest, "received", UINT64_MAX, &r->received) ||
        !field_u64(&rest, "expected", UINT64_MAX, &r->expected) ||
        !field_u64(&rest, "started", INT64_MAX, &started) ||
        !field_text(&rest, "url", r->url, sizeof(r->url)) ||
        !field_text(&rest, "type", r->content_type, sizeof(r->content_type)) ||
        !field_text(&rest, "detect", r->detect, sizeof(r->detect)) ||
        !field_text(&rest, "error", r->error, sizeof(r->error)) ||
        !field_u64(&rest, "head", PROGRESS_RECORD_HEAD_MAX, &head_len) || rest.len != head_len)
        return false;
    r->started = (int64_t)started;
    r->head = rest;
    return true;
}

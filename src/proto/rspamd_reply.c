/* rspamd_reply - rspamd's /checkv2 JSON reply: the verdict fields. */
#include "proto/rspamd_reply.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"

/* The parser: a cursor over the input and the first error. */
struct jp {
    const unsigned char *p, *end, *start;
    unsigned depth;
    const char *why; /* NULL while fine */
    size_t at;
};

static bool bad(struct jp *j, const char *why)
{
    if (!j->why) {
        j->why = why;
        j->at = (size_t)(j->p - j->start);
    }
    return false;
}

static void skip_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static bool expect(struct jp *j, char c)
{
    skip_ws(j);
    if (j->p >= j->end || *j->p != (unsigned char)c)
        return bad(j, c == ':' ? "':' expected" : c == '{' ? "object expected" : "syntax error");
    j->p++;
    return true;
}

static bool literal(struct jp *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return bad(j, "invalid literal");
    j->p += n;
    return true;
}

static int hex4(const unsigned char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = str_hex_digit(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A bounded output for a decoded string: bytes beyond cap - 1 are dropped
 * (counted in len) so the caller can tell a cut value. */
struct sbuf {
    char *buf;
    size_t cap, len;
};

static void sput(struct sbuf *s, unsigned char c)
{
    if (s && s->cap > 0 && s->len + 1 < s->cap)
        s->buf[s->len] = (char)c;
    if (s)
        s->len++;
}

static void sput_cp(struct sbuf *s, uint32_t cp)
{
    if (cp < 0x80) {
        sput(s, (unsigned char)cp);
    } else if (cp < 0x800) {
        sput(s, (unsigned char)(0xC0 | (cp >> 6)));
        sput(s, (unsigned char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        sput(s, (unsigned char)(0xE0 | (cp >> 12)));
        sput(s, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
        sput(s, (unsigned char)(0x80 | (cp & 0x3F)));
    } else {
        sput(s, (unsigned char)(0xF0 | (cp >> 18)));
        sput(s, (unsigned char)(0x80 | ((cp >> 12) & 0x3F)));
        sput(s, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
        sput(s, (unsigned char)(0x80 | (cp & 0x3F)));
    }
}

/* utf8_len - length of the valid UTF-8 sequence at p (RFC 3629: no
 * overlong forms, no surrogates, at most U+10FFFF), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, min = 0x80, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, min = 0x800, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* string - a JSON string at the cursor, decoded into out (may be NULL). */
static bool string(struct jp *j, struct sbuf *out)
{
    skip_ws(j);
    if (j->p >= j->end || *j->p != '"')
        return bad(j, "string expected");
    j->p++;
    for (;;) {
        if (j->p >= j->end)
            return bad(j, "unterminated string");
        unsigned char c = *j->p;
        if (c == '"') {
            j->p++;
            return true;
        }
        if (c < 0x20)
            return bad(j, "control character in string");
        if (c != '\\') {
            size_t n = utf8_len(j->p, j->end);
            if (n == 0)
                return bad(j, "invalid UTF-8 in string");
            for (size_t i = 0; i < n; i++)
                sput(out, j->p[i]);
            j->p += n;
            continue;
        }
        if (j->end - j->p < 2)
            return bad(j, "unterminated string");
        unsigned char e = j->p[1];
        j->p += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            sput(out, e);
            break;
        case 'b':
            sput(out, '\b');
            break;
        case 'f':
            sput(out, '\f');
            break;
        case 'n':
            sput(out, '\n');
            break;
        case 'r':
            sput(out, '\r');
            break;
        case 't':
            sput(out, '\t');
            break;
        case 'u': {
            int hi = j->end - j->p >= 4 ? hex4(j->p) : -1;
            if (hi < 0)
                return bad(j, "invalid \\u escape");
            j->p += 4;
            uint32_t cp = (uint32_t)hi;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return bad(j, "lone low surrogate");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int lo =
                    j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u' ? hex4(j->p + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return bad(j, "lone high surrogate");
                j->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            }
            sput_cp(out, cp);
            break;
        }
        default:
            return bad(j, "invalid escape");
        }
    }
}

/* number - a JSON number (RFC 8259 6) at the cursor, into *out (may be NULL). */
static bool number(struct jp *j, double *out)
{
    skip_ws(j);
    const unsigned char *s = j->p, *p = j->p;
    if (p < j->end && *p == '-')
        p++;
    if (p >= j->end || *p < '0' || *p > '9')
        return bad(j, "number expected");
    if (*p == '0')
        p++;
    else
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    if (p < j->end && *p == '.') {
        p++;
        if (p >= j->end || *p < '0' || *p > '9')
            return bad(j, "digit expected after '.'");
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || *p < '0' || *p > '9')
            return bad(j, "digit expected in exponent");
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    size_t n = (size_t)(p - s);
    if (n > RSPAMD_REPLY_NUMBER_MAX)
        return bad(j, "number too long");
    char tmp[RSPAMD_REPLY_NUMBER_MAX + 1];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    double v = strtod(tmp, NULL);
    if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))
        return bad(j, "number out of range");
    j->p = p;
    if (out)
        *out = v;
    return true;
}

static bool value(struct jp *j);

/* members - the members of an object after its '{', calling fn for each
 * key (decoded into a small buffer, cut to RSPAMD_REPLY_SYMBOL_MAX + 1
 * bytes; keylen is what was kept) with the cursor at its value; fn must
 * consume the value. */
typedef bool member_fn(struct jp *j, const char *key, size_t keylen, void *ctx);

static bool members(struct jp *j, member_fn *fn, void *ctx)
{
    if (++j->depth > RSPAMD_REPLY_DEPTH_MAX)
        return bad(j, "nested too deep");
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        j->depth--;
        return true;
    }
    for (;;) {
        char key[RSPAMD_REPLY_SYMBOL_MAX + 2];
        struct sbuf kb = {key, sizeof(key), 0};
        if (!string(j, &kb) || !expect(j, ':'))
            return false;
        /* A cut key is longer than every member name we look for. */
        size_t keylen = kb.len < sizeof(key) ? kb.len : sizeof(key) - 1;
        key[keylen] = '\0';
        if (!fn(j, key, keylen, ctx))
            return false;
        skip_ws(j);
        if (j->p >= j->end)
            return bad(j, "unterminated object");
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p != '}')
            return bad(j, "',' or '}' expected");
        j->p++;
        j->depth--;
        return true;
    }
}

static bool skip_member(struct jp *j, const char *key, size_t keylen, void *ctx)
{
    (void)key;
    (void)keylen;
    (void)ctx;
    return value(j);
}

static bool array(struct jp *j)
{
    if (++j->depth > RSPAMD_REPLY_DEPTH_MAX)
        return bad(j, "nested too deep");
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        j->depth--;
        return true;
    }
    for (;;) {
        if (!value(j))
            return false;
        skip_ws(j);
        if (j->p >= j->end)
            return bad(j, "unterminated array");
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p != ']')
            return bad(j, "',' or ']' expected");
        j->p++;
        j->depth--;
        return true;
    }
}

/* value - any JSON value, checked and skipped. */
static bool value(struct jp *j)
{
    skip_ws(j);
    if (j->p >= j->end)
        return bad(j, "value expected");
    switch (*j->p) {
    case '{':
        j->p++;
        return members(j, skip_member, NULL);
    case '[':
        j->p++;
        return array(j);
    case '"':
        return string(j, NULL);
    case 't':
        return literal(j, "true");
    case 'f':
        return literal(j, "false");
    case 'n':
        return literal(j, "null");
    default:
        return number(j, NULL);
    }
}

static bool boolean(struct jp *j, bool *out)
{
    skip_ws(j);
    if (j->p < j->end && *j->p == 't') {
        *out = true;
        return literal(j, "true");
    }
    if (j->p < j->end && *j->p == 'f') {
        *out = false;
        return literal(j, "false");
    }
    return bad(j, "boolean expected");
}

static bool peek(struct jp *j, char c)
{
    skip_ws(j);
    return j->p < j->end && *j->p == (unsigned char)c;
}

/* One symbol object: its "score" (others skipped). */
struct sym_ctx {
    double score;
    bool has_score;
};

static bool symbol_member(struct jp *j, const char *key, size_t keylen, void *ctx)
{
    struct sym_ctx *s = ctx;
    if (keylen == 5 && memcmp(key, "score", 5) == 0) {
        if (s->has_score)
            return bad(j, "symbol score given twice");
        s->has_score = true;
        return number(j, &s->score);
    }
    return value(j);
}

/* keep_symbol - add a symbol; when the array is full, it replaces the
 * lowest-scoring kept one (the latest of equal ones) if it scores higher. */
static void keep_symbol(struct rspamd_reply *r, const char *name, double score)
{
    unsigned order = r->nsymbols++;
    unsigned slot = r->nkept;
    if (r->nkept == RSPAMD_REPLY_SYMBOLS_MAX) {
        unsigned low = 0;
        for (unsigned i = 1; i < r->nkept; i++)
            if (r->symbols[i].score <= r->symbols[low].score)
                low = i;
        if (!(score > r->symbols[low].score))
            return;
        /* Keep reply order: close the gap, append at the end. */
        memmove(&r->symbols[low], &r->symbols[low + 1],
                (r->nkept - low - 1) * sizeof(r->symbols[0]));
        slot = r->nkept - 1;
    } else {
        r->nkept++;
    }
    struct rspamd_symbol *s = &r->symbols[slot];
    str_copy(s->name, sizeof(s->name), name);
    s->score = score;
    s->order = order;
}

static bool symbols_member(struct jp *j, const char *key, size_t keylen, void *ctx)
{
    (void)keylen;
    struct rspamd_reply *r = ctx;
    struct sym_ctx s = {0, false};
    if (!peek(j, '{'))
        return bad(j, "symbol object expected");
    j->p++;
    if (!members(j, symbol_member, &s))
        return false;
    keep_symbol(r, key, s.has_score ? s.score : 0);
    return true;
}

/* The top-level members we use; each at most once. */
struct top_ctx {
    struct rspamd_reply *r;
    bool seen_symbols;
};

static bool top_member(struct jp *j, const char *key, size_t keylen, void *ctx)
{
    struct top_ctx *t = ctx;
    struct rspamd_reply *r = t->r;
    struct str k = str_make(key, keylen);
    if (str_eq_cstr(k, "action")) {
        if (r->has_action)
            return bad(j, "action given twice");
        struct sbuf b = {r->action, sizeof(r->action), 0};
        if (!string(j, &b))
            return false;
        if (b.len > RSPAMD_REPLY_ACTION_MAX)
            return bad(j, "action too long");
        r->action[b.len] = '\0';
        r->has_action = true;
        return true;
    }
    if (str_eq_cstr(k, "score")) {
        if (r->has_score)
            return bad(j, "score given twice");
        r->has_score = true;
        return number(j, &r->score);
    }
    if (str_eq_cstr(k, "required_score")) {
        if (r->has_required_score)
            return bad(j, "required_score given twice");
        r->has_required_score = true;
        return number(j, &r->required_score);
    }
    if (str_eq_cstr(k, "is_skipped"))
        return boolean(j, &r->is_skipped);
    if (str_eq_cstr(k, "error")) {
        if (r->has_error)
            return bad(j, "error given twice");
        struct sbuf b = {r->error, sizeof(r->error), 0};
        if (!string(j, &b))
            return false;
        r->error[b.len < sizeof(r->error) ? b.len : sizeof(r->error) - 1] = '\0';
        r->has_error = true;
        return true;
    }
    if (str_eq_cstr(k, "symbols")) {
        if (t->seen_symbols)
            return bad(j, "symbols given twice");
        t->seen_symbols = true;
        if (!peek(j, '{'))
            return bad(j, "symbols object expected");
        j->p++;
        return members(j, symbols_member, r);
    }
    return value(j);
}

enum rspamd_reply_status rspamd_reply_parse(const char *buf, size_t len, struct rspamd_reply *out,
                                            char *err, size_t errcap)
{
    memset(out, 0, sizeof(*out));
    if (errcap > 0)
        err[0] = '\0';
    struct jp j = {(const unsigned char *)buf,
                   (const unsigned char *)buf + len,
                   (const unsigned char *)buf,
                   0,
                   NULL,
                   0};
    struct top_ctx t = {out, false};
    bool ok = expect(&j, '{') && members(&j, top_member, &t);
    if (ok) {
        skip_ws(&j);
        if (j.p != j.end)
            ok = bad(&j, "bytes after the reply");
    }
    if (!ok) {
        if (errcap > 0)
            snprintf(err, errcap, "%s at byte %zu", j.why ? j.why : "malformed", j.at);
        memset(out, 0, sizeof(*out));
        return RSPAMD_REPLY_BAD;
    }
    return RSPAMD_REPLY_OK;
}

bool rspamd_reply_is_spam(const char *action)
{
    return strcmp(action, "reject") == 0 || strcmp(action, "rewrite subject") == 0 ||
           strcmp(action, "add header") == 0;
}

unsigned rspamd_reply_top(const struct rspamd_reply *r, unsigned *idx, unsigned n)
{
    unsigned got = 0;
    while (got < n) {
        int best = -1;
        for (unsigned i = 0; i < r->nkept; i++) {
            const struct rspamd_symbol *s = &r->symbols[i];
            if (!(s->score > 0))
                continue;
            bool taken = false;
            for (unsigned k = 0; k < got; k++)
                taken = taken || idx[k] == i;
            if (taken)
                continue;
            /* kept symbols are in reply order: '>' keeps the earlier on a tie */
            if (best < 0 || s->score > r->symbols[best].score)
                best = (int)i;
        }
        if (best < 0)
            break;
        idx[got++] = (unsigned)best;
    }
    return got;
}

static bool name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

size_t rspamd_reply_name(const struct rspamd_reply *r, char *buf, size_t cap)
{
    if (cap == 0)
        return 0;
    char action[RSPAMD_REPLY_ACTION_MAX + 1];
    size_t a = 0;
    for (const char *p = r->action; *p && a < sizeof(action) - 1; p++)
        if (name_char(*p) || *p == ' ')
            action[a++] = *p == ' ' ? '_' : *p;
    action[a] = '\0';
    double score = r->score;
    /* A score that does not print as a plain number is shown as 0. */
    if (!isfinite(score) || score > 1e12 || score < -1e12)
        score = 0;
    int n = snprintf(buf, cap, RSPAMD_REPLY_NAME_PREFIX "%s/%.2f", action, score);
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return 0;
    }
    size_t len = (size_t)n;
    unsigned idx[RSPAMD_REPLY_TOP];
    unsigned ntop = rspamd_reply_top(r, idx, RSPAMD_REPLY_TOP);
    bool first = true;
    for (unsigned i = 0; i < ntop; i++) {
        char sym[RSPAMD_REPLY_SYMBOL_MAX + 1];
        size_t s = 0;
        for (const char *p = r->symbols[idx[i]].name; *p; p++)
            if (name_char(*p))
                sym[s++] = *p;
        if (s == 0)
            continue;
        if (len + 1 + s >= cap) /* '/' or '+', the symbol, the NUL */
            break;
        buf[len++] = first ? '/' : '+';
        memcpy(buf + len, sym, s);
        len += s;
        first = false;
    }
    buf[len] = '\0';
    return len;
}

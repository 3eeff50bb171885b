/* scanreq - the proxy <-> sekisho-scand wire format (see scanreq.h).
 *
 * Encoding is done into a local frame first and appended with one
 * buf_append, so a caller's buffer is never left half-written. Decoding
 * walks a bounded cursor over the input; every read checks the bytes
 * remaining, so a short or lying frame is INVALID, never an over-read.
 */
#include "proto/scanreq.h"

#include <string.h>

static const char MAGIC_REQUEST[4] = {'S', 'K', 'Q', '1'};
static const char MAGIC_REPLY[4] = {'S', 'K', 'R', '1'};

const char *scanreq_type_name(enum scanreq_type t)
{
    switch (t) {
    case SCANREQ_T_SCAN:
        return "SCAN";
    case SCANREQ_T_RELOAD:
        return "RELOAD";
    case SCANREQ_T_VERSION:
        return "VERSION";
    }
    return "TYPE_???";
}

const char *scanreq_service_name(enum scanreq_service s)
{
    switch (s) {
    case SCANREQ_SVC_HTTP:
        return "http";
    case SCANREQ_SVC_SMTP:
        return "smtp";
    case SCANREQ_SVC_POP:
        return "pop";
    case SCANREQ_SVC_FTP:
        return "ftp";
    }
    return "service_???";
}

const char *scanreq_verdict_name(enum scanreq_verdict v)
{
    switch (v) {
    case SCANREQ_CLEAN:
        return "CLEAN";
    case SCANREQ_INFECTED:
        return "INFECTED";
    case SCANREQ_ERROR:
        return "ERROR";
    }
    return "VERDICT_???";
}

const char *scanreq_parse_name(enum scanreq_parse p)
{
    switch (p) {
    case SCANREQ_DONE:
        return "DONE";
    case SCANREQ_AGAIN:
        return "AGAIN";
    case SCANREQ_INVALID:
        return "INVALID";
    }
    return "PARSE_???";
}

/* ---- encoding ---------------------------------------------------------- */

struct wcur {
    unsigned char *p;
    size_t len, cap;
    bool ok;
};

static void put_bytes(struct wcur *w, const void *p, size_t n)
{
    if (!w->ok || n > w->cap - w->len) {
        w->ok = false;
        return;
    }
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

static void put_uint(struct wcur *w, uint64_t v, unsigned width)
{
    unsigned char tmp[8];
    for (unsigned i = 0; i < width; i++)
        tmp[i] = (unsigned char)(v >> (8 * (width - 1 - i)));
    put_bytes(w, tmp, width);
}

/* put_string - u16 length + bytes; fails when over max or not NUL-terminated
 * within max + 1 bytes (the struct arrays are max + 1 long). */
static void put_string(struct wcur *w, const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n > max) {
        w->ok = false;
        return;
    }
    put_uint(w, n, 2);
    put_bytes(w, s, n);
}

static bool finish_frame(struct buf *out, const char magic[4], enum scanreq_type type,
                         struct wcur *body)
{
    if (!body->ok)
        return false;
    unsigned char frame[SCANREQ_HEADER_LEN];
    struct wcur h = {frame, 0, sizeof(frame), true};
    put_bytes(&h, magic, 4);
    put_uint(&h, SCANREQ_VERSION, 1);
    put_uint(&h, (uint64_t)type, 1);
    put_uint(&h, 0, 2);
    put_uint(&h, body->len, 4);
    if (buf_space(out) < h.len + body->len)
        return false;
    return buf_append(out, frame, h.len) && buf_append(out, body->p, body->len);
}

bool scanreq_encode_request(struct buf *out, const struct scanreq_request *req)
{
    unsigned char body[SCANREQ_SCAN_BODY_MAX];
    struct wcur w = {body, 0, sizeof(body), true};
    put_uint(&w, req->id, 8);
    switch (req->type) {
    case SCANREQ_T_SCAN:
        if ((unsigned)req->service > SCANREQ_SVC_FTP || (req->flags & ~SCANREQ_RF_ALL) != 0 ||
            !scanreq_encoding_valid(req->encoding))
            return false;
        put_uint(&w, (uint64_t)req->service, 1);
        put_uint(&w, req->encoding, 1);
        put_uint(&w, req->flags, 2);
        put_uint(&w, req->timeout_ms, 4);
        put_string(&w, req->patterns, SCANREQ_PATTERNS_MAX);
        put_string(&w, req->filename, SCANREQ_FILENAME_MAX);
        break;
    case SCANREQ_T_RELOAD:
    case SCANREQ_T_VERSION:
        break;
    default:
        return false;
    }
    return finish_frame(out, MAGIC_REQUEST, req->type, &w);
}

bool scanreq_encode_reply(struct buf *out, const struct scanreq_reply *rep)
{
    unsigned char body[SCANREQ_REPLY_BODY_MAX];
    struct wcur w = {body, 0, sizeof(body), true};
    put_uint(&w, rep->id, 8);
    switch (rep->type) {
    case SCANREQ_T_SCAN:
        if ((unsigned)rep->verdict > SCANREQ_ERROR || (rep->details & ~SCANREQ_VSD_ALL) != 0)
            return false;
        put_uint(&w, (uint64_t)rep->verdict, 1);
        put_uint(&w, 0, 1);
        put_uint(&w, rep->details, 2);
        put_uint(&w, rep->scan_us, 8);
        put_uint(&w, rep->engine_id, 8);
        put_string(&w, rep->name, SCANREQ_NAME_MAX);
        put_string(&w, rep->error, SCANREQ_ERROR_MAX);
        break;
    case SCANREQ_T_RELOAD:
        put_uint(&w, rep->reload_ok ? 1 : 0, 1);
        put_uint(&w, 0, 1);
        put_uint(&w, 0, 2);
        put_uint(&w, rep->signatures, 8);
        put_string(&w, rep->error, SCANREQ_ERROR_MAX);
        break;
    default: /* VERSION: scanreq_encode_version */
        return false;
    }
    return finish_frame(out, MAGIC_REPLY, rep->type, &w);
}

bool scanreq_encode_version(struct buf *out, const struct scanreq_version *v)
{
    unsigned char body[SCANREQ_VERSION_REPLY_BODY_MAX];
    struct wcur w = {body, 0, sizeof(body), true};
    if (v->count > DB_VERSION_ENTRIES_MAX)
        return false;
    put_uint(&w, v->id, 8);
    put_uint(&w, v->engine_id, 8);
    put_uint(&w, v->loaded_at, 8);
    put_uint(&w, v->signatures, 8);
    put_string(&w, v->libclamav, SCANREQ_LIBCLAMAV_MAX);
    put_uint(&w, v->count, 2);
    for (size_t i = 0; i < v->count; i++) {
        const struct db_version_entry *e = &v->dbs[i];
        if (e->name[0] == '\0')
            return false;
        put_string(&w, e->name, DB_VERSION_NAME_MAX);
        put_uint(&w, e->version, 4);
        put_uint(&w, e->signatures, 8);
        put_uint(&w, (uint64_t)e->built, 8);
    }
    return finish_frame(out, MAGIC_REPLY, SCANREQ_T_VERSION, &w);
}

/* ---- decoding ---------------------------------------------------------- */

struct rcur {
    const unsigned char *p;
    size_t len, pos;
    bool ok;
};

static uint64_t get_uint(struct rcur *r, unsigned width)
{
    if (!r->ok || width > r->len - r->pos) {
        r->ok = false;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v = (v << 8) | r->p[r->pos + i];
    r->pos += width;
    return v;
}

/* get_string - u16 length + bytes into dst[max + 1]; rejects over-long
 * strings and embedded NULs (they would truncate silently in C). */
static void get_string(struct rcur *r, char *dst, size_t max)
{
    size_t n = (size_t)get_uint(r, 2);
    dst[0] = '\0';
    if (!r->ok || n > max || n > r->len - r->pos || memchr(r->p + r->pos, '\0', n) != NULL) {
        r->ok = false;
        return;
    }
    memcpy(dst, r->p + r->pos, n);
    dst[n] = '\0';
    r->pos += n;
}

/* decode_header - validate the fixed header; on DONE *body_len is set and
 * the whole frame is available. body_max[type] is the largest body of
 * each type, 0 for a type the caller does not decode. */
static enum scanreq_parse decode_header(const char *p, size_t len, const char magic[4],
                                        const size_t body_max[SCANREQ_T_COUNT],
                                        enum scanreq_type *type, size_t *body_len, size_t *n)
{
    /* Reject a wrong magic as soon as its bytes are there, so garbage
     * fails fast instead of waiting for a header's worth of bytes. */
    size_t m = len < 4 ? len : 4;
    if (memcmp(p, magic, m) != 0)
        goto invalid;
    if (len >= 5 && (unsigned char)p[4] != SCANREQ_VERSION)
        goto invalid;
    if (len >= 6 && ((unsigned char)p[5] >= SCANREQ_T_COUNT || body_max[(unsigned char)p[5]] == 0))
        goto invalid;
    if (len < SCANREQ_HEADER_LEN) {
        *n = SCANREQ_HEADER_LEN - len;
        return SCANREQ_AGAIN;
    }
    struct rcur r = {(const unsigned char *)p, len, 6, true};
    uint64_t reserved = get_uint(&r, 2);
    uint64_t blen = get_uint(&r, 4);
    if (reserved != 0 || blen > body_max[(unsigned char)p[5]])
        goto invalid;
    if (len - SCANREQ_HEADER_LEN < blen) {
        *n = (size_t)blen - (len - SCANREQ_HEADER_LEN);
        return SCANREQ_AGAIN;
    }
    *type = (enum scanreq_type)(unsigned char)p[5];
    *body_len = (size_t)blen;
    return SCANREQ_DONE;
invalid:
    *n = 0;
    return SCANREQ_INVALID;
}

enum scanreq_parse scanreq_decode_request(const char *p, size_t len, struct scanreq_request *req,
                                          size_t *n)
{
    static const size_t body_max[SCANREQ_T_COUNT] = {
        [SCANREQ_T_SCAN] = SCANREQ_SCAN_BODY_MAX, [SCANREQ_T_RELOAD] = 8, [SCANREQ_T_VERSION] = 8};
    enum scanreq_type type;
    size_t blen;
    enum scanreq_parse st = decode_header(p, len, MAGIC_REQUEST, body_max, &type, &blen, n);
    if (st != SCANREQ_DONE)
        return st;
    struct rcur r = {(const unsigned char *)p + SCANREQ_HEADER_LEN, blen, 0, true};
    memset(req, 0, sizeof(*req));
    req->type = type;
    req->id = get_uint(&r, 8);
    if (type == SCANREQ_T_SCAN) {
        uint64_t svc = get_uint(&r, 1);
        uint64_t enc = get_uint(&r, 1);
        uint64_t flags = get_uint(&r, 2);
        req->timeout_ms = (uint32_t)get_uint(&r, 4);
        get_string(&r, req->patterns, SCANREQ_PATTERNS_MAX);
        get_string(&r, req->filename, SCANREQ_FILENAME_MAX);
        if (svc > SCANREQ_SVC_FTP || !scanreq_encoding_valid((unsigned)enc) ||
            (flags & ~(uint64_t)SCANREQ_RF_ALL) != 0)
            r.ok = false;
        req->service = (enum scanreq_service)svc;
        req->encoding = (uint8_t)enc;
        req->flags = (uint32_t)flags;
    }
    if (!r.ok || r.pos != r.len) {
        *n = 0;
        return SCANREQ_INVALID;
    }
    *n = SCANREQ_HEADER_LEN + blen;
    return SCANREQ_DONE;
}

enum scanreq_parse scanreq_decode_reply(const char *p, size_t len, struct scanreq_reply *rep,
                                        size_t *n)
{
    static const size_t body_max[SCANREQ_T_COUNT] = {[SCANREQ_T_SCAN] = SCANREQ_REPLY_BODY_MAX,
                                                     [SCANREQ_T_RELOAD] =
                                                         SCANREQ_RELOAD_REPLY_BODY_MAX};
    enum scanreq_type type;
    size_t blen;
    enum scanreq_parse st = decode_header(p, len, MAGIC_REPLY, body_max, &type, &blen, n);
    if (st != SCANREQ_DONE)
        return st;
    struct rcur r = {(const unsigned char *)p + SCANREQ_HEADER_LEN, blen, 0, true};
    memset(rep, 0, sizeof(*rep));
    rep->type = type;
    rep->id = get_uint(&r, 8);
    if (type == SCANREQ_T_SCAN) {
        uint64_t verdict = get_uint(&r, 1);
        uint64_t reserved = get_uint(&r, 1);
        uint64_t details = get_uint(&r, 2);
        rep->scan_us = get_uint(&r, 8);
        rep->engine_id = get_uint(&r, 8);
        get_string(&r, rep->name, SCANREQ_NAME_MAX);
        get_string(&r, rep->error, SCANREQ_ERROR_MAX);
        if (verdict > SCANREQ_ERROR || reserved != 0 || (details & ~(uint64_t)SCANREQ_VSD_ALL) != 0)
            r.ok = false;
        rep->verdict = (enum scanreq_verdict)verdict;
        rep->details = (uint32_t)details;
    } else {
        uint64_t ok = get_uint(&r, 1);
        uint64_t reserved = get_uint(&r, 1) | get_uint(&r, 2);
        rep->signatures = get_uint(&r, 8);
        get_string(&r, rep->error, SCANREQ_ERROR_MAX);
        if (ok > 1 || reserved != 0)
            r.ok = false;
        rep->reload_ok = ok == 1;
    }
    if (!r.ok || r.pos != r.len) {
        *n = 0;
        return SCANREQ_INVALID;
    }
    *n = SCANREQ_HEADER_LEN + blen;
    return SCANREQ_DONE;
}

enum scanreq_parse scanreq_decode_version(const char *p, size_t len, struct scanreq_version *v,
                                          size_t *n)
{
    static const size_t body_max[SCANREQ_T_COUNT] = {[SCANREQ_T_VERSION] =
                                                         SCANREQ_VERSION_REPLY_BODY_MAX};
    enum scanreq_type type;
    size_t blen;
    enum scanreq_parse st = decode_header(p, len, MAGIC_REPLY, body_max, &type, &blen, n);
    if (st != SCANREQ_DONE)
        return st;
    struct rcur r = {(const unsigned char *)p + SCANREQ_HEADER_LEN, blen, 0, true};
    memset(v, 0, sizeof(*v));
    v->id = get_uint(&r, 8);
    v->engine_id = get_uint(&r, 8);
    v->loaded_at = get_uint(&r, 8);
    v->signatures = get_uint(&r, 8);
    get_string(&r, v->libclamav, SCANREQ_LIBCLAMAV_MAX);
    uint64_t count = get_uint(&r, 2);
    if (count > DB_VERSION_ENTRIES_MAX)
        r.ok = false;
    for (size_t i = 0; r.ok && i < count; i++) {
        struct db_version_entry *e = &v->dbs[i];
        get_string(&r, e->name, DB_VERSION_NAME_MAX);
        e->version = (uint32_t)get_uint(&r, 4);
        e->signatures = get_uint(&r, 8);
        e->built = (int64_t)get_uint(&r, 8);
        if (e->name[0] == '\0')
            r.ok = false; /* every database file has a name */
    }
    v->count = r.ok ? (size_t)count : 0;
    if (!r.ok || r.pos != r.len) {
        *n = 0;
        return SCANREQ_INVALID;
    }
    *n = SCANREQ_HEADER_LEN + blen;
    return SCANREQ_DONE;
}

/* ---- details ------------------------------------------------------------ */

static const struct {
    uint32_t bit;
    const char *name;
} DETAIL_NAMES[] = {
    {SCANREQ_VSD_ENCRYPTED, "VSD_ENCRYPTED"},     {SCANREQ_VSD_MAXNESTED, "VSD_MAXNESTED"},
    {SCANREQ_VSD_SCANTIMEOUT, "VSD_SCANTIMEOUT"}, {SCANREQ_VSD_UNDECODED, "VSD_UNDECODED"},
    {SCANREQ_VSD_OVERSIZE, "VSD_OVERSIZE"},       {SCANREQ_VSD_MAXFILES, "VSD_MAXFILES"},
};

bool scanreq_details_format(uint32_t details, struct buf *out)
{
    char tmp[128]; /* every name, comma-separated, fits */
    struct buf t;
    buf_init(&t, tmp, sizeof(tmp));
    for (size_t i = 0; i < sizeof(DETAIL_NAMES) / sizeof(DETAIL_NAMES[0]); i++) {
        if (!(details & DETAIL_NAMES[i].bit))
            continue;
        if (buf_len(&t) > 0)
            buf_append_cstr(&t, ",");
        buf_append_cstr(&t, DETAIL_NAMES[i].name);
    }
    return buf_append(out, buf_rptr(&t), buf_len(&t));
}

/* ---- riskware ------------------------------------------------------------ */

#define RISKWARE_COMPONENTS 3

/* glob_match - '*' matches any run (possibly empty) of characters; every
 * other byte matches itself. Iterative with one backtrack point, so the
 * cost is O(len(p) * len(s)) at worst and there is no recursion. */
static bool glob_match(struct str p, struct str s)
{
    size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;
    while (si < s.len) {
        if (pi < p.len && p.ptr[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < p.len && p.ptr[pi] == s.ptr[si]) {
            pi++;
            si++;
        } else if (star != SIZE_MAX) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < p.len && p.ptr[pi] == '*')
        pi++;
    return pi == p.len;
}

/* split3 - split at '.' into exactly three components. */
static bool split3(struct str s, struct str part[RISKWARE_COMPONENTS])
{
    struct str rest = s;
    for (int i = 0; i < RISKWARE_COMPONENTS - 1; i++) {
        if (!str_cut(rest, '.', &part[i], &rest))
            return false;
    }
    part[RISKWARE_COMPONENTS - 1] = rest;
    return str_find_char(rest, '.') < 0;
}

bool scanreq_riskware_match(struct str patterns, struct str name)
{
    struct str npart[RISKWARE_COMPONENTS];
    if (!split3(name, npart))
        return false;
    struct str rest = patterns, pat;
    while (rest.len > 0) {
        if (!str_cut(rest, ';', &pat, &rest))
            rest = STR_NULL;
        pat = str_trim(pat);
        struct str ppart[RISKWARE_COMPONENTS];
        if (pat.len == 0 || !split3(pat, ppart))
            continue;
        bool all = true;
        for (int i = 0; i < RISKWARE_COMPONENTS && all; i++)
            all = glob_match(ppart[i], npart[i]);
        if (all)
            return true;
    }
    return false;
}

/* ClamAV platform names (the second component of PUA.* names, as used in
 * the official databases) onto the guide's platform list (DET-3). */
static const struct {
    const char *clamav, *guide;
} PLATFORMS[] = {
    {"Win", "Win32"}, {"Win32", "Win32"}, {"Win64", "Win32"},    {"Win16", "Win16"},
    {"Dos", "DOS"},   {"DOS", "DOS"},     {"Unix", "UNIX"},      {"Linux", "Linux"},
    {"Elf", "Linux"}, {"Java", "Java"},   {"Js", "JS"},          {"JS", "JS"},
    {"Html", "HTML"}, {"HTML", "HTML"},   {"Php", "PHP"},        {"PHP", "PHP"},
    {"Perl", "Perl"}, {"Vbs", "VBS"},     {"VBS", "VBS"},        {"Vba", "VBA"},
    {"Doc", "Macro"}, {"Xls", "Macro"},   {"Ppt", "Macro"},      {"Macro", "Macro"},
    {"Bat", "BAT"},   {"Palm", "Palm"},   {"Msil", "NewDotNet"},
};

/* ClamAV PUA categories onto the guide's categories. ClamAV's vocabulary
 * is smaller and partly different: packers, crypters and "Trojan"-named
 * PUAs are tools with a dangerous use (RiskTool); spyware and key loggers
 * are Monitor; IRC tools are Client-IRC. */
static const struct {
    const char *clamav, *guide;
} CATEGORIES[] = {
    {"Tool", "Tool"},        {"Adware", "Adware"},
    {"Packer", "RiskTool"},  {"Packed", "RiskTool"},
    {"Crypter", "RiskTool"}, {"Cryptor", "RiskTool"},
    {"Trojan", "RiskTool"},  {"Exploit", "RiskTool"},
    {"Casino", "RiskTool"},  {"Downloader", "Downloader"},
    {"Dialer", "Dialer"},    {"Joke", "Joke"},
    {"Spyware", "Monitor"},  {"Keylogger", "Monitor"},
    {"Monitor", "Monitor"},  {"Proxy", "Proxy"},
    {"Irc", "Client-IRC"},   {"IRC", "Client-IRC"},
    {"Rat", "RemoteAdmin"},  {"RemoteAdmin", "RemoteAdmin"},
    {"Crack", "CrackTool"},  {"Keygen", "CrackTool"},
    {"Psw", "PSWTool"},      {"PSWTool", "PSWTool"},
    {"NetTool", "NetTool"},  {"Scanner", "NetTool"},
    {"Porn", "Porn-Tool"},   {"RiskTool", "RiskTool"},
};

static const char *map_name(struct str s, size_t which)
{
    if (which == 0) {
        for (size_t i = 0; i < sizeof(PLATFORMS) / sizeof(PLATFORMS[0]); i++)
            if (str_eq_cstr(s, PLATFORMS[i].clamav))
                return PLATFORMS[i].guide;
    } else {
        for (size_t i = 0; i < sizeof(CATEGORIES) / sizeof(CATEGORIES[0]); i++)
            if (str_eq_cstr(s, CATEGORIES[i].clamav))
                return CATEGORIES[i].guide;
    }
    return NULL;
}

bool scanreq_riskware_from_clamav(const char *pua_name, char *out, size_t cap)
{
    static const struct str prefix = {"PUA.", 4};
    static const struct str unofficial = {".UNOFFICIAL", 11};
    if (cap > 0)
        out[0] = '\0';
    struct str s = str_from_cstr(pua_name);
    if (cap == 0 || !str_has_prefix(s, prefix))
        return false;
    s.ptr += prefix.len;
    s.len -= prefix.len;
    if (s.len >= unofficial.len &&
        memcmp(s.ptr + s.len - unofficial.len, unofficial.ptr, unofficial.len) == 0)
        s.len -= unofficial.len;

    struct str platform = STR_NULL, category = STR_NULL, family = STR_NULL;
    struct str rest = s;
    if (!str_cut(rest, '.', &platform, &rest))
        rest = STR_NULL;
    if (!str_cut(rest, '.', &category, &family))
        family = STR_NULL;
    /* Strip the "-<digits>" serial ClamAV appends to a family. */
    size_t end = family.len;
    while (end > 0 && family.ptr[end - 1] >= '0' && family.ptr[end - 1] <= '9')
        end--;
    if (end > 0 && end < family.len && family.ptr[end - 1] == '-')
        family.len = end - 1;

    struct buf b;
    buf_init(&b, out, cap);
    const char *cat = map_name(category, 1);
    const char *plat = map_name(platform, 0);
    bool ok = true;
    if (cat)
        ok = buf_append_cstr(&b, cat);
    else
        ok = buf_append_str(&b, category.len ? category : STR_LIT("Generic"));
    ok = ok && buf_append_cstr(&b, ".");
    if (plat)
        ok = ok && buf_append_cstr(&b, plat);
    else
        ok = ok && buf_append_str(&b, platform.len ? platform : STR_LIT("Generic"));
    ok = ok && buf_append_cstr(&b, ".");
    if (family.len == 0)
        family = STR_LIT("Generic");
    for (size_t i = 0; i < family.len && ok; i++) {
        char c = family.ptr[i] == '.' ? '_' : family.ptr[i];
        ok = buf_append(&b, &c, 1);
    }
    /* Leave room for the terminator: buf_cstr needs one free byte. */
    if (!ok || buf_space(&b) == 0) {
        out[0] = '\0';
        return false;
    }
    buf_cstr(&b);
    return true;
}

bool scanreq_encoding_valid(unsigned enc)
{
    unsigned first = enc & 0xfu, second = enc >> 4;
    if (enc > 0xffu)
        return false;
    if (first == SCANREQ_ENC_UNDECODABLE)
        return second == 0;
    if (first > SCANREQ_ENC_CODING_MAX || second > SCANREQ_ENC_CODING_MAX)
        return false;
    return first != 0 || second == 0;
}

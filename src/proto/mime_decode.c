/* mime_decode - decoders for mail header values (RFC 2047 words, RFC 2231
 * parameters, header fields); the body decoders (base64, QP) are
 * mime_cte.c's. See mime_decode.h. Inside, every decoded byte goes through a "sink"
 * (bounded output: all-or-nothing into a struct buf, or keep-the-tail for
 * file names), and text in a charset goes through a "conv" (UTF-8
 * validation, iconv, the ISO-2022-JP to CP932 step in front of iconv,
 * UTF-7, or ASCII with every 8-bit byte as U+FFFD for the charsets we do
 * not convert) that buffers at most CONV_IN_MAX input bytes. Nothing here
 * allocates except iconv_open(3).
 */
#include "proto/mime_decode.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "lib/str.h"

#include "proto/mime_utf7.h"

/* ---- small helpers ---------------------------------------------------- */

static bool is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static bool is_lws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool mem_caseeq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return false;
    return true;
}

/* fold_len - length of a folding line break at s[i] (RFC 5322 2.2.3: CRLF
 * or a bare LF followed by a space or tab), else 0. */
static size_t fold_len(struct str s, size_t i)
{
    if (i + 2 < s.len && s.ptr[i] == '\r' && s.ptr[i + 1] == '\n' &&
        is_wsp((unsigned char)s.ptr[i + 2]))
        return 2;
    if (i + 1 < s.len && s.ptr[i] == '\n' && is_wsp((unsigned char)s.ptr[i + 1]))
        return 1;
    return 0;
}

/* ---- sink: bounded output -------------------------------------------- */

struct sink {
    char *p;
    size_t cap;
    size_t len;   /* linear mode: bytes held; tail mode: next write index */
    size_t total; /* bytes offered */
    size_t ctl;   /* offered bytes < 0x20 other than ESC (spec SCAN-7) */
    bool tail;    /* keep the last cap bytes instead of failing */
    bool wrapped; /* tail mode: the ring has been filled once */
    bool overflow;
};

static void sink_put(struct sink *s, const void *src, size_t n)
{
    const unsigned char *b = src;
    for (size_t i = 0; i < n; i++)
        s->ctl += b[i] < 0x20 && b[i] != 0x1b;
    s->total += n;
    if (!s->tail) {
        if (s->overflow || n > s->cap - s->len) {
            s->overflow = true;
            return;
        }
        memcpy(s->p + s->len, b, n);
        s->len += n;
        return;
    }
    if (s->cap == 0)
        return;
    if (n >= s->cap) {
        memcpy(s->p, b + n - s->cap, s->cap);
        s->len = 0;
        s->wrapped = true;
        return;
    }
    size_t first = s->cap - s->len < n ? s->cap - s->len : n;
    memcpy(s->p + s->len, b, first);
    memcpy(s->p, b + first, n - first);
    s->len += n;
    if (s->len >= s->cap) {
        s->len -= s->cap;
        s->wrapped = true;
    }
}

static void sink_put_fffd(struct sink *s)
{
    sink_put(s, "\xef\xbf\xbd", 3);
}

static void reverse(char *p, size_t n)
{
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        char t = p[i];
        p[i] = p[j - 1];
        p[j - 1] = t;
    }
}

/* sink_tail_finish - linearise the ring; returns the bytes held, which
 * start at s->p and begin at a UTF-8 character boundary. */
static size_t sink_tail_finish(struct sink *s)
{
    if (!s->wrapped)
        return s->len;
    /* Rotate left by len: the oldest byte is at p[len]. */
    reverse(s->p, s->len);
    reverse(s->p + s->len, s->cap - s->len);
    reverse(s->p, s->cap);
    size_t skip = 0;
    /* Only a real cut can split a character (a value of exactly cap
     * bytes also fills the ring once). */
    while (s->total > s->cap && skip < 3 && skip < s->cap &&
           ((unsigned char)s->p[skip] & 0xc0) == 0x80)
        skip++;
    memmove(s->p, s->p + skip, s->cap - skip);
    return s->cap - skip;
}

/* ---- charset conversion ---------------------------------------------- */

#define CONV_IN_MAX  512
#define CONV_OUT_MAX 1024

enum conv_kind {
    CONV_RAW = 0, /* bytes copied as they are */
    CONV_UTF8,    /* validated, invalid bytes become U+FFFD */
    CONV_ICONV,   /* through iconv to UTF-8 */
    CONV_JIS,     /* ISO-2022-JP rewritten to CP932, then iconv */
    CONV_UTF7,    /* RFC 2152, decoded here */
    CONV_ASCII,   /* a charset we do not convert: ASCII kept, 8-bit bytes
                     become U+FFFD (see conv_open) */
};

struct conv {
    enum conv_kind kind;
    iconv_t cd;
    /* ISO-2022-JP decoder: the designated set, a pending first byte of a
     * two-byte character, a partial escape sequence. */
    unsigned char jset, lead, nesc;
    unsigned char esc[4];
    struct mime_utf7 u7;
    size_t n;
    char in[CONV_IN_MAX];
};

enum jis_set {
    JIS_ASCII = 0,
    JIS_KANJI, /* JIS X 0208 */
    JIS_KANA,  /* JIS X 0201 katakana */
    JIS_OTHER, /* a two-byte set we cannot map (JIS X 0212) */
};

static const struct charset_alias {
    const char *name;
    enum conv_kind kind;
    const char *iconv;
} charsets[] = {
    {"utf-8", CONV_UTF8, NULL},
    {"utf8", CONV_UTF8, NULL},
    /* 8-bit bytes under a us-ascii label are nearly always UTF-8. */
    {"us-ascii", CONV_UTF8, NULL},
    {"ascii", CONV_UTF8, NULL},
    /* ISO-8859-1 labels carry Windows-1252 text (WHATWG encoding rule). */
    {"iso-8859-1", CONV_ICONV, "WINDOWS-1252"},
    {"iso8859-1", CONV_ICONV, "WINDOWS-1252"},
    {"iso_8859-1", CONV_ICONV, "WINDOWS-1252"},
    {"latin1", CONV_ICONV, "WINDOWS-1252"},
    {"windows-1252", CONV_ICONV, "WINDOWS-1252"},
    {"cp1252", CONV_ICONV, "WINDOWS-1252"},
    {"x-cp1252", CONV_ICONV, "WINDOWS-1252"},
    {"iso-8859-15", CONV_ICONV, "ISO-8859-15"},
    {"iso8859-15", CONV_ICONV, "ISO-8859-15"},
    {"iso_8859-15", CONV_ICONV, "ISO-8859-15"},
    {"latin-9", CONV_ICONV, "ISO-8859-15"},
    {"latin9", CONV_ICONV, "ISO-8859-15"},
    {"iso-2022-jp", CONV_JIS, "CP932"},
    {"csiso2022jp", CONV_JIS, "CP932"},
    /* Shift_JIS mail is written by Windows: CP932 is what it means. */
    {"shift_jis", CONV_ICONV, "CP932"},
    {"shift-jis", CONV_ICONV, "CP932"},
    {"sjis", CONV_ICONV, "CP932"},
    {"x-sjis", CONV_ICONV, "CP932"},
    {"ms_kanji", CONV_ICONV, "CP932"},
    {"csshiftjis", CONV_ICONV, "CP932"},
    {"cp932", CONV_ICONV, "CP932"},
    {"windows-31j", CONV_ICONV, "CP932"},
    {"x-ms-cp932", CONV_ICONV, "CP932"},
    {"euc-jp", CONV_ICONV, "EUC-JP-MS"},
    {"x-euc-jp", CONV_ICONV, "EUC-JP-MS"},
    {"eucjp", CONV_ICONV, "EUC-JP-MS"},
    {"cseucpkdfmtjapanese", CONV_ICONV, "EUC-JP-MS"},
    /* Outlook and Thunderbird decode UTF-7, where ASCII can hide in base64
     * ("+AC4-exe" is ".exe"). */
    {"utf-7", CONV_UTF7, NULL},
    {"utf7", CONV_UTF7, NULL},
    {"unicode-1-1-utf-7", CONV_UTF7, NULL},
    {"csunicode11utf7", CONV_UTF7, NULL},
    {"x-unicode20utf7", CONV_UTF7, NULL},
};

static const struct charset_alias *charset_find(struct str name)
{
    /* RFC 2231 section 5: "charset*language" in encoded-words. */
    long star = str_find_char(name, '*');
    if (star >= 0)
        name.len = (size_t)star;
    for (size_t i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++)
        if (str_caseeq_cstr(name, charsets[i].name))
            return &charsets[i];
    return NULL;
}

/* conv_open - a conv for text in charset; raw=true opens a pass-through
 * conv instead.
 *
 * A charset outside the table (ISO-8859-2, KOI8-R, GBK, Big5, ...), or
 * one iconv cannot open (gconv modules missing), is read as ASCII with
 * every byte >= 0x80 as U+FFFD. Every charset a mailer writes into a
 * header but UTF-7 (in the table) and UTF-16/32 keeps ASCII as ASCII
 * bytes, so the ASCII of the text -- a file name's extension, which the
 * attachment policies match -- is exactly what a mail client shows; the
 * other characters are not guessed. (UTF-16/32 put NUL bytes into the
 * result, which a file name check flags, spec SCAN-7.) Bytes below 0x80
 * are kept as they are, control characters included. */
static void conv_open(struct conv *c, struct str charset, bool raw)
{
    c->n = 0;
    c->jset = JIS_ASCII;
    c->lead = 0;
    c->nesc = 0;
    c->cd = (iconv_t)-1;
    mime_utf7_init(&c->u7);
    if (raw) {
        c->kind = CONV_RAW;
        return;
    }
    const struct charset_alias *a = charset_find(charset);
    c->kind = a ? a->kind : CONV_ASCII;
    if (a && a->iconv) {
        c->cd = iconv_open("UTF-8", a->iconv);
        if (c->cd == (iconv_t)-1)
            c->kind = CONV_ASCII;
    }
}

/* utf8_seq - length of the valid UTF-8 sequence at p[0..n): 1..4; 0 when
 * invalid; -1 when n bytes are a valid but incomplete prefix. */
static int utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    int len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -1;
        unsigned char b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80)
            return 0;
    }
    return len;
}

/* conv_run - convert the buffered input; an incomplete sequence at the end
 * stays buffered unless final. */
static void conv_run(struct conv *c, struct sink *s, bool final)
{
    size_t i = 0;
    if (c->kind == CONV_UTF8) {
        const unsigned char *p = (const unsigned char *)c->in;
        size_t start = 0;
        while (i < c->n) {
            int l = utf8_seq(p + i, c->n - i);
            if (l > 0) {
                i += (size_t)l;
                continue;
            }
            sink_put(s, p + start, i - start);
            if (l < 0 && !final) {
                start = i;
                break;
            }
            sink_put_fffd(s);
            i++;
            start = i;
        }
        if (i == c->n) {
            sink_put(s, p + start, i - start);
            start = i;
        }
        i = start;
    } else if (c->kind == CONV_ICONV || c->kind == CONV_JIS) {
        char *ip = c->in;
        size_t il = c->n;
        while (il > 0) {
            char obuf[CONV_OUT_MAX];
            char *op = obuf;
            size_t ol = sizeof(obuf);
            size_t r = iconv(c->cd, &ip, &il, &op, &ol);
            int err = errno;
            sink_put(s, obuf, (size_t)(op - obuf));
            if (r != (size_t)-1)
                break;
            if (err == E2BIG)
                continue;
            if (err == EINVAL && !final)
                break;
            /* EILSEQ, or an incomplete sequence at the very end. */
            sink_put_fffd(s);
            ip++;
            il--;
        }
        i = (size_t)(ip - c->in);
    } else {
        sink_put(s, c->in, c->n);
        i = c->n;
    }
    memmove(c->in, c->in + i, c->n - i);
    c->n -= i;
}

static void conv_byte(struct conv *c, struct sink *s, unsigned char b)
{
    if (c->n == CONV_IN_MAX)
        conv_run(c, s, false);
    if (c->n == CONV_IN_MAX) { /* cannot happen: at most 3 bytes stay */
        sink_put_fffd(s);
        c->n = 0;
    }
    c->in[c->n++] = (char)b;
}

/* jis_escape - an escape sequence is complete in c->esc: switch sets.
 * Returns false while more bytes are needed. */
static bool jis_escape(struct conv *c, struct sink *s)
{
    const unsigned char *e = c->esc; /* e[0] is ESC */
    if (c->nesc < 3)
        return false;
    if (e[1] == '(' && (e[2] == 'B' || e[2] == 'J' || e[2] == 'H')) {
        c->jset = JIS_ASCII;
    } else if (e[1] == '(' && e[2] == 'I') {
        c->jset = JIS_KANA;
    } else if (e[1] == '$' && (e[2] == '@' || e[2] == 'B')) {
        c->jset = JIS_KANJI;
    } else if (e[1] == '&' && e[2] == '@') {
        /* JIS X 0208-1990 announcer: ESC $ B follows */
    } else if (e[1] == '$' && e[2] == '(') {
        if (c->nesc < 4)
            return false;
        /* JIS X 0213 plane 1 is a superset of 0208; 0212 is not mapped. */
        c->jset = (e[3] == 'Q' || e[3] == 'O') ? JIS_KANJI : JIS_OTHER;
    } else {
        conv_run(c, s, false);
        sink_put_fffd(s);
    }
    return true;
}

/* jis_put - ISO-2022-JP (RFC 1468) to CP932 bytes: JIS X 0208 rows map
 * arithmetically onto Shift_JIS, so NEC row 13 (circled digits) and the
 * IBM extensions that Japanese mailers put into ISO-2022-JP (CP50221)
 * decode through the CP932 table. Raw 8-bit bytes are passed on as CP932,
 * which is what a mailer that puts them there meant. */
static void jis_put(struct conv *c, struct sink *s, unsigned char b)
{
    if (c->nesc > 0) {
        c->esc[c->nesc++] = b;
        if (jis_escape(c, s) || c->nesc == sizeof(c->esc))
            c->nesc = 0;
        return;
    }
    if (b == 0x1b) {
        c->lead = 0;
        c->esc[0] = b;
        c->nesc = 1;
        return;
    }
    if (b == '\r' || b == '\n') {
        c->jset = JIS_ASCII; /* RFC 1468: lines end in ASCII */
        c->lead = 0;
    }
    if (c->jset == JIS_ASCII || b < 0x21 || b > 0x7e) {
        c->lead = 0;
        conv_byte(c, s, b);
        return;
    }
    if (c->jset == JIS_KANA) {
        conv_byte(c, s, (unsigned char)(b < 0x60 ? b + 0x80 : b));
        return;
    }
    if (!c->lead) {
        c->lead = b;
        return;
    }
    unsigned j1 = c->lead, j2 = b;
    c->lead = 0;
    if (c->jset == JIS_OTHER) {
        conv_run(c, s, false);
        sink_put_fffd(s);
        return;
    }
    unsigned s1 = ((j1 - 0x21) >> 1) + 0x81;
    if (s1 > 0x9f)
        s1 += 0x40;
    unsigned s2 = (j1 & 1) ? j2 + 0x1f + (j2 >= 0x60) : j2 + 0x7e;
    conv_byte(c, s, (unsigned char)s1);
    conv_byte(c, s, (unsigned char)s2);
}

/* ascii_put - ASCII bytes as they are, runs of them at once; each byte
 * >= 0x80 becomes U+FFFD. */
static void ascii_put(struct sink *s, const char *p, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)p[i] < 0x80)
            continue;
        sink_put(s, p + start, i - start);
        sink_put_fffd(s);
        start = i + 1;
    }
    sink_put(s, p + start, n - start);
}

static void conv_put(struct conv *c, struct sink *s, const char *p, size_t n)
{
    if (c->kind == CONV_RAW) {
        sink_put(s, p, n);
        return;
    }
    if (c->kind == CONV_ASCII) {
        ascii_put(s, p, n);
        return;
    }
    if (c->kind == CONV_UTF7) {
        char out[MIME_UTF7_OUT_MAX];
        for (size_t i = 0; i < n; i++) {
            size_t w = mime_utf7_byte(&c->u7, (unsigned char)p[i], out);
            sink_put(s, out, w);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (c->kind == CONV_JIS)
            jis_put(c, s, (unsigned char)p[i]);
        else
            conv_byte(c, s, (unsigned char)p[i]);
    }
}

static void conv_close(struct conv *c, struct sink *s)
{
    if (c->kind == CONV_UTF7) {
        char out[MIME_UTF7_OUT_MAX];
        size_t n = mime_utf7_finish(&c->u7, out);
        sink_put(s, out, n);
    }
    conv_run(c, s, true);
    if (c->kind == CONV_JIS && (c->lead || c->nesc))
        sink_put_fffd(s); /* half a character or escape at the end */
    if (c->cd != (iconv_t)-1) {
        iconv_close(c->cd);
        c->cd = (iconv_t)-1;
    }
    c->n = 0;
}

/* ---- RFC 2047 encoded-words ------------------------------------------ */

struct word {
    struct str charset;
    char enc; /* 'b' or 'q' */
    struct str text;
    size_t end; /* offset after "?=" */
};

/* word_parse - an encoded-word "=?charset?B|Q?text?=" at in[at] (which is
 * "=?"). The charset and text may not hold '?' or whitespace, so a failed
 * attempt reads only up to a '?' and the search stays linear (a retry
 * from at + 1 can start a new word no earlier than the last '?' seen). */
static bool word_parse(struct str in, size_t at, struct word *w)
{
    size_t k = at + 2, cs = k;
    while (k < in.len && in.ptr[k] != '?' && (unsigned char)in.ptr[k] > 0x20 &&
           (unsigned char)in.ptr[k] < 0x7f && in.ptr[k] != '=')
        k++;
    if (k == cs || k + 2 >= in.len || in.ptr[k] != '?' || in.ptr[k + 2] != '?')
        return false;
    char e = (char)lower((unsigned char)in.ptr[k + 1]);
    if (e != 'b' && e != 'q')
        return false;
    size_t t = k + 3, ts = t;
    while (t < in.len && in.ptr[t] != '?' && !is_lws((unsigned char)in.ptr[t]))
        t++;
    if (t + 1 >= in.len || in.ptr[t] != '?' || in.ptr[t + 1] != '=')
        return false;
    w->charset = str_make(in.ptr + cs, k - cs);
    w->enc = e;
    w->text = str_make(in.ptr + ts, t - ts);
    w->end = t + 2;
    return true;
}

static void word_payload(const struct word *w, struct conv *c, struct sink *s)
{
    char tmp[256];
    if (w->enc == 'b') {
        struct mime_b64 d;
        mime_b64_init(&d);
        size_t pos = 0;
        while (pos < w->text.len) {
            size_t used, n = mime_b64_decode(&d, w->text.ptr + pos, w->text.len - pos, tmp,
                                             sizeof(tmp), &used);
            conv_put(c, s, tmp, n);
            pos += used;
        }
        size_t n;
        while ((n = mime_b64_finish(&d, tmp, sizeof(tmp))) > 0)
            conv_put(c, s, tmp, n);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < w->text.len; i++) {
        unsigned char ch = (unsigned char)w->text.ptr[i];
        int hi, lo;
        if (ch == '_') {
            ch = ' ';
        } else if (ch == '=' && i + 2 < w->text.len &&
                   (hi = str_hex_digit((unsigned char)w->text.ptr[i + 1])) >= 0 &&
                   (lo = str_hex_digit((unsigned char)w->text.ptr[i + 2])) >= 0) {
            ch = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        tmp[n++] = (char)ch;
        if (n == sizeof(tmp)) {
            conv_put(c, s, tmp, n);
            n = 0;
        }
    }
    conv_put(c, s, tmp, n);
}

/* text_put - header text between words: folding removed, bytes raw. */
static void text_put(struct sink *s, struct str in, size_t from, size_t to)
{
    size_t start = from;
    for (size_t i = from; i < to;) {
        size_t f = fold_len(in, i);
        if (f == 0) {
            i++;
            continue;
        }
        sink_put(s, in.ptr + start, i - start);
        i += f;
        start = i;
    }
    sink_put(s, in.ptr + start, to - start);
}

static bool all_lws(struct str in, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (!is_lws((unsigned char)in.ptr[i]))
            return false;
    return true;
}

static void words_decode(struct str in, struct sink *s)
{
    struct conv c;
    bool open = false;
    struct str open_cs = STR_NULL;
    size_t i = 0, text_start = 0, last_word_end = (size_t)-1;
    while (i + 1 < in.len) {
        const char *p = memchr(in.ptr + i, '=', in.len - i - 1);
        if (!p)
            break;
        size_t j = (size_t)(p - in.ptr);
        struct word w;
        if (in.ptr[j + 1] != '?' || !word_parse(in, j, &w)) {
            i = j + 1;
            continue;
        }
        bool glued = open && last_word_end == text_start && all_lws(in, text_start, j);
        if (!glued) {
            if (open)
                conv_close(&c, s);
            open = false;
            text_put(s, in, text_start, j);
        }
        if (open && !str_caseeq(open_cs, w.charset)) {
            conv_close(&c, s);
            open = false;
        }
        if (!open) {
            conv_open(&c, w.charset, false);
            open = true;
            open_cs = w.charset;
        }
        word_payload(&w, &c, s);
        i = text_start = last_word_end = w.end;
    }
    if (open)
        conv_close(&c, s);
    text_put(s, in, text_start, in.len);
}

bool mime_decode_words(struct str in, struct buf *out)
{
    struct sink s = {.p = buf_wptr(out), .cap = buf_space(out)};
    words_decode(in, &s);
    if (s.overflow)
        return false;
    buf_produce(out, s.len);
    return true;
}

/* ---- parameters ------------------------------------------------------- */

struct param_item {
    struct str attr;
    struct str value;
    bool quoted;
};

/* quoted_end - offset of the closing quote of a quoted-string whose
 * opening quote is at s[at], or s.len when unterminated. */
static size_t quoted_end(struct str s, size_t at)
{
    size_t i = at + 1;
    while (i < s.len && s.ptr[i] != '"')
        i += (s.ptr[i] == '\\') ? 2 : 1;
    return i < s.len ? i : s.len;
}

/* param_next - the next attribute=value pair at or after *pos. Anything
 * else (the type, stray words, separators) is skipped. An unquoted value
 * ends at ';' or whitespace, as in Thunderbird. */
static bool param_next(struct str s, size_t *pos, struct param_item *it)
{
    size_t i = *pos;
    while (i < s.len) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (is_lws(c) || c == ';') {
            i++;
            continue;
        }
        if (c == '"') {
            i = quoted_end(s, i) + 1;
            continue;
        }
        size_t as = i;
        while (i < s.len && !is_lws((unsigned char)s.ptr[i]) && s.ptr[i] != '=' &&
               s.ptr[i] != ';' && s.ptr[i] != '"')
            i++;
        size_t ae = i, j = i;
        while (j < s.len && is_lws((unsigned char)s.ptr[j]))
            j++;
        if (j >= s.len || s.ptr[j] != '=' || ae == as) {
            if (i == as)
                i++; /* a lone '=' */
            continue;
        }
        j++;
        while (j < s.len && is_lws((unsigned char)s.ptr[j]))
            j++;
        it->attr = str_make(s.ptr + as, ae - as);
        if (j < s.len && s.ptr[j] == '"') {
            size_t e = quoted_end(s, j);
            it->value = str_make(s.ptr + j + 1, e - j - 1);
            it->quoted = true;
            i = e + 1;
        } else {
            size_t vs = j;
            while (j < s.len && !is_lws((unsigned char)s.ptr[j]) && s.ptr[j] != ';')
                j++;
            it->value = str_make(s.ptr + vs, j - vs);
            it->quoted = false;
            i = j;
        }
        *pos = i > s.len ? s.len : i;
        return true;
    }
    *pos = s.len;
    return false;
}

/* vbyte - the next logical byte of a parameter value: folding removed,
 * backslash escapes of a quoted-string resolved. */
static bool vbyte(struct str v, bool quoted, size_t *i, unsigned char *c)
{
    while (*i < v.len) {
        size_t f = fold_len(v, *i);
        if (f) {
            *i += f;
            continue;
        }
        unsigned char b = (unsigned char)v.ptr[(*i)++];
        if (quoted && b == '\\' && *i < v.len)
            b = (unsigned char)v.ptr[(*i)++];
        *c = b;
        return true;
    }
    return false;
}

/* value_put - a value's logical bytes into conv, %XX decoded if pct. */
static void value_put(struct str v, bool quoted, size_t from, bool pct, struct conv *c,
                      struct sink *s)
{
    char tmp[256];
    size_t n = 0, i = from;
    unsigned char b;
    while (vbyte(v, quoted, &i, &b)) {
        if (pct && b == '%') {
            size_t save = i;
            unsigned char h1, h2;
            if (vbyte(v, quoted, &i, &h1) && vbyte(v, quoted, &i, &h2) && str_hex_digit(h1) >= 0 &&
                str_hex_digit(h2) >= 0)
                b = (unsigned char)(str_hex_digit(h1) << 4 | str_hex_digit(h2));
            else
                i = save;
        }
        tmp[n++] = (char)b;
        if (n == sizeof(tmp)) {
            conv_put(c, s, tmp, n);
            n = 0;
        }
    }
    conv_put(c, s, tmp, n);
}

/* plain_put - name=value: unquoted, then RFC 2047 words decoded (legacy
 * mailers put them into quoted file names). */
static void plain_put(struct str v, bool quoted, struct sink *s)
{
    if (!quoted || !memchr(v.ptr, '\\', v.len)) {
        words_decode(v, s); /* words_decode removes folding itself */
        return;
    }
    char tmp[4096];
    size_t n = 0, i = 0;
    unsigned char b;
    while (n < sizeof(tmp) && vbyte(v, true, &i, &b))
        tmp[n++] = (char)b;
    if (i >= v.len) {
        words_decode(str_make(tmp, n), s);
        return;
    }
    /* Too long to decode words in: give the unquoted bytes. */
    struct conv raw;
    conv_open(&raw, STR_NULL, true);
    value_put(v, true, 0, false, &raw, s);
}

struct seg {
    struct str v;
    bool quoted, ext, set;
};

/* ext_put - RFC 2231 value: segment 0 (or the single name*= value) may
 * start with charset'language'; the rest is %XX-encoded when ext. */
static void ext_put(const struct seg *segs, size_t nseg, struct sink *s)
{
    char cs[64];
    size_t csn = 0, from = 0;
    bool have_cs = false;
    if (segs[0].ext) {
        /* Look for charset'lang' in the logical bytes of segment 0. */
        size_t i = 0, quotes = 0, after = 0;
        unsigned char b;
        while (quotes < 2 && vbyte(segs[0].v, segs[0].quoted, &i, &b)) {
            if (b == '\'') {
                quotes++;
                after = i;
            } else if (quotes == 0 && csn < sizeof(cs)) {
                cs[csn++] = (char)b;
            }
        }
        if (quotes == 2) {
            have_cs = true;
            from = after;
        } else {
            csn = 0;
        }
    }
    /* No charset (or an empty one): the bytes raw, as they were meant in
     * the mailer's local charset; an unknown one: see conv_open. */
    struct conv c;
    bool raw = !have_cs || csn == 0 || csn == sizeof(cs);
    conv_open(&c, str_make(cs, csn), raw);
    for (size_t k = 0; k < nseg; k++)
        value_put(segs[k].v, segs[k].quoted, k == 0 ? from : 0, segs[k].ext, &c, s);
    conv_close(&c, s);
}

/* param_decode - the value of name into s; false when absent. */
static bool param_decode(struct str params, const char *name, struct sink *s)
{
    struct seg segs[MIME_PARAM_SEGMENTS_MAX];
    struct seg single = {.set = false}, plain = {.set = false};
    size_t nlen = strlen(name), pos = 0;
    bool any_seg = false;
    struct param_item it;
    while (param_next(params, &pos, &it)) {
        if (it.attr.len < nlen || !mem_caseeq(it.attr.ptr, name, nlen))
            continue;
        struct str rest = str_make(it.attr.ptr + nlen, it.attr.len - nlen);
        if (rest.len == 0) {
            if (!plain.set)
                plain = (struct seg){it.value, it.quoted, false, true};
            continue;
        }
        if (rest.ptr[0] != '*')
            continue;
        if (rest.len == 1) {
            if (!single.set)
                single = (struct seg){it.value, it.quoted, true, true};
            continue;
        }
        size_t d = 1;
        unsigned idx = 0;
        while (d < rest.len && d < 5 && rest.ptr[d] >= '0' && rest.ptr[d] <= '9')
            idx = idx * 10 + (unsigned)(rest.ptr[d++] - '0');
        bool ext = d < rest.len && rest.ptr[d] == '*';
        if (d == 1 || d + ext != rest.len || idx >= MIME_PARAM_SEGMENTS_MAX)
            continue;
        if (!any_seg) {
            for (size_t k = 0; k < MIME_PARAM_SEGMENTS_MAX; k++)
                segs[k].set = false;
            any_seg = true;
        }
        if (!segs[idx].set)
            segs[idx] = (struct seg){it.value, it.quoted, ext, true};
    }
    if (any_seg && segs[0].set) {
        size_t n = 1;
        while (n < MIME_PARAM_SEGMENTS_MAX && segs[n].set)
            n++;
        ext_put(segs, n, s);
        return true;
    }
    if (single.set) {
        ext_put(&single, 1, s);
        return true;
    }
    if (plain.set) {
        plain_put(plain.v, plain.quoted, s);
        return true;
    }
    return false;
}

bool mime_param_get(struct str params, const char *name, struct buf *out)
{
    struct sink s = {.p = buf_wptr(out), .cap = buf_space(out)};
    if (!param_decode(params, name, &s) || s.overflow)
        return false;
    buf_produce(out, s.len);
    return true;
}

const char *mime_param_result_name(enum mime_param_result r)
{
    switch (r) {
    case MIME_PARAM_ABSENT:
        return "ABSENT";
    case MIME_PARAM_FOUND:
        return "FOUND";
    case MIME_PARAM_TRUNCATED:
        return "TRUNCATED";
    }
    return "PARAM_???";
}

enum mime_param_result mime_param_get_tail(struct str params, const char *name, char *dst,
                                           size_t cap, size_t *ctl)
{
    if (ctl)
        *ctl = 0;
    if (cap == 0)
        return param_decode(params, name, &(struct sink){.tail = true}) ? MIME_PARAM_TRUNCATED
                                                                        : MIME_PARAM_ABSENT;
    struct sink s = {.p = dst, .cap = cap - 1, .tail = true};
    bool found = param_decode(params, name, &s);
    size_t n = found ? sink_tail_finish(&s) : 0;
    dst[n] = '\0';
    if (ctl)
        *ctl = s.ctl;
    if (!found)
        return MIME_PARAM_ABSENT;
    return s.total > cap - 1 ? MIME_PARAM_TRUNCATED : MIME_PARAM_FOUND;
}

bool mime_param_raw(struct str params, const char *name, struct str *value, bool *quoted)
{
    size_t pos = 0;
    struct param_item it;
    while (param_next(params, &pos, &it)) {
        if (str_caseeq_cstr(it.attr, name)) {
            *value = it.value;
            if (quoted)
                *quoted = it.quoted;
            return true;
        }
    }
    return false;
}

/* ---- header fields ---------------------------------------------------- */

/* line_end - offset of the '\n' ending the line at pos, or len. */
static size_t line_end(struct str h, size_t pos)
{
    const char *nl = memchr(h.ptr + pos, '\n', h.len - pos);
    return nl ? (size_t)(nl - h.ptr) : h.len;
}

static bool line_is_empty(struct str h, size_t pos, size_t le)
{
    return le == pos || (le == pos + 1 && h.ptr[pos] == '\r');
}

struct str mime_header_get(struct str headers, const char *name, size_t *iter, struct buf *unfold)
{
    size_t nlen = strlen(name);
    size_t pos = iter ? *iter : 0;
    while (pos < headers.len) {
        size_t le = line_end(headers, pos);
        if (line_is_empty(headers, pos, le))
            break;
        size_t next = le < headers.len ? le + 1 : le;
        size_t k = pos + nlen;
        if (nlen > 0 && k <= le && mem_caseeq(headers.ptr + pos, name, nlen)) {
            while (k < le && is_wsp((unsigned char)headers.ptr[k]))
                k++;
            if (k < le && headers.ptr[k] == ':') {
                /* Continuation lines start with a space or tab. */
                size_t end = next;
                bool folded = false;
                while (end < headers.len && is_wsp((unsigned char)headers.ptr[end])) {
                    end = line_end(headers, end);
                    end = end < headers.len ? end + 1 : end;
                    folded = true;
                }
                if (iter)
                    *iter = end;
                struct str v = str_trim(str_make(headers.ptr + k + 1, end - k - 1));
                if (!folded || !unfold)
                    return v;
                size_t need = 0;
                for (size_t i = 0; i < v.len; i++)
                    need += v.ptr[i] != '\n' &&
                            !(v.ptr[i] == '\r' && i + 1 < v.len && v.ptr[i + 1] == '\n');
                if (need > buf_space(unfold))
                    return v;
                char *dst = buf_wptr(unfold);
                size_t n = 0;
                for (size_t i = 0; i < v.len; i++)
                    if (v.ptr[i] != '\n' &&
                        !(v.ptr[i] == '\r' && i + 1 < v.len && v.ptr[i + 1] == '\n'))
                        dst[n++] = v.ptr[i];
                buf_produce(unfold, n);
                return str_make(dst, n);
            }
        }
        pos = next;
    }
    if (iter)
        *iter = headers.len;
    return STR_NULL;
}

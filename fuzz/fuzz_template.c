/* fuzz_template - libFuzzer target for proto/template_parse.
 *
 * Input: one flags byte, then the template text; when the text holds the
 * separator "\n--VALUE--\n", what follows it is the value given to every
 * variable (otherwise a fixed hostile value is used). Besides looking for
 * crashes and over-reads, it checks the module's promises:
 *   - rendering is all or nothing: with one byte less room than the
 *     rendering needs the result is TOO_LONG and the buffer untouched,
 *     with exactly enough it is DONE and identical;
 *   - HTML mode: a template without `#` gets no '<' from any value;
 *   - MAIL mode: a value cannot add lines to the template's header;
 *   - validation positions stay inside the input;
 *   - a From: address never holds a byte that could leave MAIL FROM:<>;
 *   - RFC 2047 output is printable ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/template_parse.h"

#define OUT_CAP (64 * 1024)

static char out_mem[OUT_CAP], again_mem[OUT_CAP];

static void check(int cond)
{
    if (!cond)
        abort();
}

static size_t count_char(struct str s, char c)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++)
        n += s.ptr[i] == c;
    return n;
}

static void check_render(struct str tpl, enum template_parse_mode mode,
                         const struct template_parse_var *vars, size_t nvars)
{
    struct buf out;
    buf_init(&out, out_mem, sizeof(out_mem));
    if (template_parse_render(tpl, mode, vars, nvars, &out) != TEMPLATE_PARSE_DONE) {
        check(buf_len(&out) == 0);
        return;
    }
    size_t n = buf_len(&out);

    /* Exactly enough room: the same bytes. */
    struct buf again;
    buf_init(&again, again_mem, n);
    check(template_parse_render(tpl, mode, vars, nvars, &again) == TEMPLATE_PARSE_DONE);
    check(buf_len(&again) == n && memcmp(again_mem, out_mem, n) == 0);
    /* One byte less: TOO_LONG, nothing kept. */
    if (n > 0) {
        buf_init(&again, again_mem, n - 1);
        check(template_parse_render(tpl, mode, vars, nvars, &again) == TEMPLATE_PARSE_TOO_LONG);
        check(buf_len(&again) == 0);
    }

    struct str r = buf_view(&out);
    if (mode == TEMPLATE_PARSE_HTML && !memchr(tpl.ptr, '#', tpl.len))
        check(count_char(r, '<') == count_char(tpl, '<'));
    if (mode == TEMPLATE_PARSE_MAIL) {
        struct str th, tb, rh, rb;
        /* Header lines come only from the template (a template without a
         * header section is all body, where values are raw by design). */
        if (template_parse_split_mail(tpl, &th, &tb) && th.len > 0) {
            template_parse_split_mail(r, &rh, &rb);
            check(count_char(rh, '\n') <= count_char(th, '\n'));
        }
    }
}

static void check_from(struct str header)
{
    struct str a = template_parse_mail_from(header);
    if (a.len == 0)
        return;
    check(a.ptr >= header.ptr && a.ptr + a.len <= header.ptr + header.len);
    check(memchr(a.ptr, '@', a.len) != NULL);
    for (size_t i = 0; i < a.len; i++) {
        unsigned char c = (unsigned char)a.ptr[i];
        check(c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"' && c != '\\');
    }
}

static void check_rfc2047(struct str text)
{
    struct buf out;
    buf_init(&out, out_mem, sizeof(out_mem));
    if (!template_parse_rfc2047(text, STR_LIT(" "), &out)) {
        check(buf_len(&out) == 0);
        return;
    }
    for (size_t i = 0; i < buf_len(&out); i++) {
        unsigned char c = (unsigned char)out_mem[i];
        check(c >= 0x20 && c < 0x7f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    struct str in = str_make((const char *)data + 1, size - 1);

    static const char sep[] = "\n--VALUE--\n";
    struct str tpl = in, value = STR_LIT("<b a=\"x\">&'\r\nFrom: evil@example.com\n\n${URL}#{URL}");
    const char *s = memmem(in.ptr, in.len, sep, sizeof(sep) - 1);
    if (s) {
        tpl = str_make(in.ptr, (size_t)(s - in.ptr));
        const char *v = s + sizeof(sep) - 1;
        value = str_make(v, (size_t)(in.ptr + in.len - v));
    }

    struct template_parse_var vars[TEMPLATE_VAR_COUNT + 1];
    template_parse_vars_init(vars);
    for (size_t i = 0; i < TEMPLATE_VAR_COUNT; i++) {
        /* Leave some variables unset, as a caller might. */
        if (!(flags & 0x80) || i % 3)
            vars[i].value = value;
    }
    vars[TEMPLATE_VAR_COUNT] = (struct template_parse_var){NULL, value};

    enum template_parse_mode mode = (enum template_parse_mode)(flags % 3);
    check_render(tpl, mode, vars, TEMPLATE_VAR_COUNT + 1);

    struct template_parse_pos pos;
    enum template_parse_check c = template_parse_validate(in, TEMPLATE_PARSE_MAX_BYTES, &pos);
    check(c == TEMPLATE_CHECK_TOO_BIG || pos.offset <= in.len);
    check(c == TEMPLATE_CHECK_TOO_BIG || pos.line >= 1);

    struct str h, b;
    template_parse_split_mail(in, &h, &b);
    check(h.ptr == in.ptr && h.len + b.len <= in.len);
    check(b.ptr + b.len == in.ptr + in.len);
    check_from(h);
    check_from(in);

    struct str subject;
    if (template_parse_header_find(h, "Subject", &subject))
        check(subject.ptr >= h.ptr && subject.ptr + subject.len <= h.ptr + h.len);

    check_rfc2047(in);

    struct buf out;
    buf_init(&out, out_mem, (flags & 0x40) ? (size_t)(flags & 0x3f) * 4 : sizeof(out_mem));
    if (template_parse_encode_header(h, &out) == TEMPLATE_PARSE_TOO_LONG)
        check(buf_len(&out) == 0);
    return 0;
}

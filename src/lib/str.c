/* str - length-carrying string views and bounded copies. */
#include "lib/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct str str_from_cstr(const char *s)
{
    return s ? str_make(s, strlen(s)) : str_make("", 0);
}

bool str_eq(struct str a, struct str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool str_eq_cstr(struct str a, const char *b)
{
    return str_eq(a, str_from_cstr(b));
}

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool case_equal_n(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    }
    return true;
}

bool str_caseeq(struct str a, struct str b)
{
    return a.len == b.len && case_equal_n(a.ptr, b.ptr, a.len);
}

bool str_caseeq_cstr(struct str a, const char *b)
{
    return str_caseeq(a, str_from_cstr(b));
}

bool str_has_prefix(struct str s, struct str prefix)
{
    return s.len >= prefix.len && (prefix.len == 0 || memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
}

bool str_has_caseprefix(struct str s, struct str prefix)
{
    return s.len >= prefix.len && case_equal_n(s.ptr, prefix.ptr, prefix.len);
}

bool str_has_casesuffix(struct str s, struct str suffix)
{
    return s.len >= suffix.len && case_equal_n(s.ptr + s.len - suffix.len, suffix.ptr, suffix.len);
}

static bool is_trim_char(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct str str_trim(struct str s)
{
    while (s.len > 0 && is_trim_char(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && is_trim_char(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

long str_find_char(struct str s, char c)
{
    const char *p = s.len ? memchr(s.ptr, c, s.len) : NULL;
    return p ? (long)(p - s.ptr) : -1;
}

bool str_cut(struct str s, char sep, struct str *head, struct str *tail)
{
    long i = str_find_char(s, sep);
    if (i < 0) {
        *head = s;
        *tail = str_make(s.ptr + s.len, 0);
        return false;
    }
    *head = str_make(s.ptr, (size_t)i);
    *tail = str_make(s.ptr + i + 1, s.len - (size_t)i - 1);
    return true;
}

bool str_to_u64(struct str s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned char)s.ptr[i] - '0';
        if (d > 9 || d > max)
            return false;
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

size_t str_copy(char *dst, size_t cap, const char *src)
{
    return str_copy_view(dst, cap, str_from_cstr(src));
}

size_t str_copy_view(char *dst, size_t cap, struct str s)
{
    if (cap > 0) {
        size_t n = s.len < cap - 1 ? s.len : cap - 1;
        if (n)
            memcpy(dst, s.ptr, n);
        dst[n] = '\0';
    }
    return s.len;
}

void str_format(char *dst, size_t cap, const char *fmt, ...)
{
    if (!dst || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

/* str - length-carrying string views and bounded copies.
 *
 * A struct str is a view: it points into memory owned by someone else
 * (a protocol buffer, a config snapshot, a literal) and carries its
 * length, so protocol bytes never depend on a NUL terminator. Nothing in
 * this module allocates or does I/O.
 */
#ifndef SEKISHO_LIB_STR_H
#define SEKISHO_LIB_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct str {
    const char *ptr;
    size_t len;
};

#define STR_LIT(s) ((struct str){(s), sizeof(s) - 1})
#define STR_NULL   ((struct str){NULL, 0})

static inline struct str str_make(const char *p, size_t n)
{
    return (struct str){p, n};
}

/* str_from_cstr - view of a NUL-terminated string (NULL gives an empty view). */
struct str str_from_cstr(const char *s);

bool str_eq(struct str a, struct str b);
bool str_eq_cstr(struct str a, const char *b);
/* ASCII case-insensitive comparisons (protocol tokens, header names). */
bool str_caseeq(struct str a, struct str b);
bool str_caseeq_cstr(struct str a, const char *b);
bool str_has_prefix(struct str s, struct str prefix);
bool str_has_caseprefix(struct str s, struct str prefix);
bool str_has_casesuffix(struct str s, struct str suffix);

/* str_trim - drop leading and trailing spaces, tabs, CR and LF. */
struct str str_trim(struct str s);

/* str_find_char - index of the first c in s, or -1. */
long str_find_char(struct str s, char c);

/* str_cut - split s at the first occurrence of sep: *head gets the part
 * before, *tail the part after. Returns false (head = s, tail empty) when
 * sep does not occur. */
bool str_cut(struct str s, char sep, struct str *head, struct str *tail);

/* str_to_u64 - parse an unsigned decimal number that fills all of s.
 * Rejects empty input, signs, spaces and values above max. */
bool str_to_u64(struct str s, uint64_t max, uint64_t *out);

/* str_copy - strlcpy semantics: copies at most cap-1 bytes of src and
 * NUL-terminates (when cap > 0). Returns strlen(src); a result >= cap
 * means the copy was truncated. */
size_t str_copy(char *dst, size_t cap, const char *src);

/* str_format - snprintf into dst[0..cap), for optional error buffers:
 * nothing is written when dst is NULL or cap is 0. */
void str_format(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* str_copy_view - the same for a view. Returns s.len. */
size_t str_copy_view(char *dst, size_t cap, struct str s);

/* str_hex_digit - the value of a hexadecimal digit (either case), or -1. */
static inline int str_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

#endif

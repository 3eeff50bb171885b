/* http_range - see http_range.h. */
#include "proto/http_range.h"

/* digits - a run of decimal digits (at most 18: no overflow); false when
 * there is none or it is too long. */
static bool digits(struct str s, uint64_t *v)
{
    if (s.len == 0 || s.len > 18)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    *v = x;
    return true;
}

bool http_range_single(struct str value, uint64_t total, uint64_t *first, uint64_t *last)
{
    struct str v = str_trim(value), unit, spec;
    if (!str_cut(v, '=', &unit, &spec) || !str_caseeq_cstr(str_trim(unit), "bytes"))
        return false;
    spec = str_trim(spec);
    struct str a, b;
    if (str_find_char(spec, ',') >= 0 || !str_cut(spec, '-', &a, &b))
        return false;
    a = str_trim(a);
    b = str_trim(b);
    uint64_t x, y;
    if (total == 0)
        return false;
    if (a.len == 0) { /* suffix: the last y bytes */
        if (!digits(b, &y) || y == 0)
            return false;
        *first = y >= total ? 0 : total - y;
        *last = total - 1;
        return true;
    }
    if (!digits(a, &x) || x >= total)
        return false;
    if (b.len == 0) {
        y = total - 1;
    } else {
        if (!digits(b, &y) || y < x)
            return false;
        if (y >= total)
            y = total - 1;
    }
    *first = x;
    *last = y;
    return true;
}

/* logconv_line - see logconv_line.h. */
#include "proto/logconv_line.h"

#include <stdint.h>

#define EPOCH_INT_MIN  9  /* 1973-03-03: nothing older is a log entry */
#define EPOCH_INT_MAX  12 /* year 33658: keeps time_t arithmetic safe */
#define EPOCH_FRAC_MAX 9

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool logconv_epoch(const char *p, size_t n, bool complete, time_t *t)
{
    size_t i = 0;
    int64_t v = 0;
    while (i < n && is_digit(p[i]) && i < EPOCH_INT_MAX + 1)
        v = v * 10 + (p[i++] - '0');
    if (i < EPOCH_INT_MIN || i > EPOCH_INT_MAX)
        return false;
    if (i < n && p[i] == '.') {
        size_t f = ++i;
        while (i < n && is_digit(p[i]))
            i++;
        if (i == f || i - f > EPOCH_FRAC_MAX)
            return false;
    }
    /* the field must end here: a blank or the end of the line */
    if (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
        return false;
    if (i == n && !complete)
        return false; /* cannot see the end of the field */
    *t = (time_t)v;
    return true;
}

size_t logconv_prefix_len(const char *p, size_t n)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd : ";
    if (n < LOGCONV_PREFIX_LEN)
        return 0;
    for (size_t i = 0; i < LOGCONV_PREFIX_LEN; i++) {
        if (shape[i] == 'd' ? !is_digit(p[i]) : p[i] != shape[i])
            return 0;
    }
    return LOGCONV_PREFIX_LEN;
}

void logconv_line_parse(const char *p, size_t n, bool complete, struct logconv_line *l)
{
    if (n > LOGCONV_HEAD_MAX) {
        n = LOGCONV_HEAD_MAX;
        complete = false;
    }
    *l = (struct logconv_line){0};
    if (logconv_epoch(p, n, complete, &l->time)) {
        l->timed = l->epoch_first = true;
        return;
    }
    size_t pl = logconv_prefix_len(p, n);
    if (pl && logconv_epoch(p + pl, n - pl, complete, &l->time)) {
        l->timed = true;
        l->prefix_len = pl;
    }
}

size_t logconv_format_prefix(time_t t, char out[LOGCONV_PREFIX_CAP])
{
    struct tm tm;
    out[0] = '\0';
    if (!localtime_r(&t, &tm))
        return 0;
    size_t n = strftime(out, LOGCONV_PREFIX_CAP, "%Y-%m-%d %H:%M:%S : ", &tm);
    if (n == 0)
        out[0] = '\0';
    return n;
}

size_t logconv_line_rewrite(const struct logconv_line *l, enum logconv_mode mode,
                            char prefix[LOGCONV_PREFIX_CAP], size_t *skip)
{
    prefix[0] = '\0';
    *skip = 0;
    if (mode == LOGCONV_REVERSE) {
        if (l->timed && !l->epoch_first)
            *skip = l->prefix_len;
        return 0;
    }
    if (mode == LOGCONV_CONVERT && l->epoch_first)
        return logconv_format_prefix(l->time, prefix);
    return 0;
}

/* ftp_path - see ftp_path.h. */
#include "proto/ftp_path.h"

#include <string.h>

/* push - append "/" + component to out (len *n); false when full. */
static bool push(char *out, size_t cap, size_t *n, const char *p, size_t len)
{
    if (*n + 1 + len + 1 > cap)
        return false;
    out[(*n)++] = '/';
    memcpy(out + *n, p, len);
    *n += len;
    out[*n] = '\0';
    return true;
}

/* pop - drop the last component of out (never the root). */
static void pop(char *out, size_t *n)
{
    while (*n > 0 && out[*n - 1] != '/')
        (*n)--;
    if (*n > 0)
        (*n)--; /* the '/' before it */
    out[*n] = '\0';
}

/* walk - apply the components of p[0..len) to out. */
static bool walk(char *out, size_t cap, size_t *n, const char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && p[i] == '/')
            i++;
        size_t start = i;
        while (i < len && p[i] != '/')
            i++;
        size_t clen = i - start;
        if (clen == 0 || (clen == 1 && p[start] == '.'))
            continue;
        if (memchr(p + start, '\0', clen))
            return false; /* the result is a C string */
        if (clen == 2 && p[start] == '.' && p[start + 1] == '.') {
            pop(out, n);
            continue;
        }
        if (!push(out, cap, n, p + start, clen))
            return false;
    }
    return true;
}

bool ftp_path_resolve(const char *dir, struct str arg, char *out, size_t cap)
{
    if (cap < 2)
        return false;
    size_t n = 0;
    out[0] = '\0';
    bool ok = true;
    if (!(arg.len > 0 && arg.ptr[0] == '/') && dir)
        ok = walk(out, cap, &n, dir, strlen(dir));
    if (ok)
        ok = walk(out, cap, &n, arg.ptr, arg.len);
    if (!ok) {
        out[0] = '\0';
        return false;
    }
    if (n == 0) {
        out[0] = '/';
        out[1] = '\0';
    }
    return true;
}

bool ftp_pwd_parse(struct str text, char *out, size_t cap)
{
    const char *q = text.len ? memchr(text.ptr, '"', text.len) : NULL;
    if (!q || cap == 0)
        return false;
    size_t i = (size_t)(q - text.ptr) + 1, n = 0;
    while (i < text.len) {
        char c = text.ptr[i];
        if (c == '"') {
            if (i + 1 < text.len && text.ptr[i + 1] == '"') {
                i++; /* a doubled quote is one quote of the name */
            } else {
                out[n] = '\0';
                return true;
            }
        }
        if (c == '\0' || n + 1 >= cap)
            break;
        out[n++] = c;
        i++;
    }
    out[0] = '\0';
    return false;
}

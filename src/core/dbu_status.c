/* dbu_status - see dbu_status.h. */
#include "core/dbu_status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/file_read.h"
#include "lib/str.h"

#define DBU_STATUS_FILE_MAX 4096

int dbu_lock_open(const char *path)
{
    return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
}

int dbu_lock_try(int fd)
{
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return 1;
    return errno == EWOULDBLOCK ? 0 : -1;
}

/* One line: control bytes would end it, so they become blanks. */
static void put_field(FILE *f, const char *key, const char *value)
{
    fprintf(f, "%s=", key);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
    fputc('\n', f);
}

int dbu_status_write(const char *path, const struct dbu_status *st)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid()) >= sizeof(tmp))
        return -1;
    FILE *f = fopen(tmp, "we");
    if (!f)
        return -1;
    fprintf(f, "pid=%ld\nstarted=%lld\nchanged=%lld\nresult=%d\n", st->pid, (long long)st->started,
            (long long)st->changed, st->result);
    put_field(f, "stage", st->stage);
    put_field(f, "message", st->message);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static bool number(struct str v, long long *out)
{
    bool neg = v.len > 0 && v.ptr[0] == '-';
    uint64_t u;
    if (!str_to_u64(neg ? str_make(v.ptr + 1, v.len - 1) : v, (uint64_t)1 << 62, &u))
        return false;
    *out = neg ? -(long long)u : (long long)u;
    return true;
}

int dbu_status_read(const char *path, struct dbu_status *st)
{
    size_t len;
    char err[128];
    char *text = file_read_all(path, DBU_STATUS_FILE_MAX, &len, err, sizeof(err));
    if (!text)
        return -1;
    memset(st, 0, sizeof(*st));
    st->result = -1;
    int seen = 0;
    struct str rest = str_make(text, len), line;
    while (rest.len > 0) {
        if (!str_cut(rest, '\n', &line, &rest)) {
            line = rest;
            rest = STR_NULL;
        }
        struct str key, value;
        if (!str_cut(line, '=', &key, &value))
            continue;
        long long n;
        if (str_eq_cstr(key, "pid") && number(value, &n)) {
            st->pid = (long)n;
            seen++;
        } else if (str_eq_cstr(key, "started") && number(value, &n)) {
            st->started = (time_t)n;
        } else if (str_eq_cstr(key, "changed") && number(value, &n)) {
            st->changed = (time_t)n;
        } else if (str_eq_cstr(key, "result") && number(value, &n)) {
            st->result = (int)n;
        } else if (str_eq_cstr(key, "stage")) {
            str_copy_view(st->stage, sizeof(st->stage), value);
        } else if (str_eq_cstr(key, "message")) {
            str_copy_view(st->message, sizeof(st->message), value);
        }
    }
    free(text);
    return seen ? 0 : -1;
}

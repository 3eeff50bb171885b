/* template - notification and detection templates loaded from conf/.
 *
 * See template.h. Reads a file of at most TEMPLATE_PARSE_MAX_BYTES with
 * plain read(2) (start-up only), validates it with template_parse_validate
 * and keeps a NUL-terminated copy. Does no rendering of its own beyond
 * forwarding to proto/template_parse.
 */
#include "core/template.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct template
{
    char *path;
    char *text; /* len bytes and a NUL */
    size_t len;
    enum template_parse_mode mode;
};

/* UTF-8 byte-order mark (U+FEFF), which some editors write first. */
static const char utf8_bom[] = "\xEF\xBB\xBF";

static enum template_parse_mode mode_for(const char *file)
{
    struct str f = str_from_cstr(file);
    if (str_has_casesuffix(f, STR_LIT(".html")) || str_has_casesuffix(f, STR_LIT(".htm")))
        return TEMPLATE_PARSE_HTML;
    return TEMPLATE_PARSE_MAIL;
}

/* read_bounded - read at most cap bytes of fd into mem; the count, or -1
 * with errno. Stops at end of file. */
static ssize_t read_bounded(int fd, char *mem, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, mem + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static void diag_line(FILE *diag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diag_line(FILE *diag, const char *fmt, ...)
{
    if (!diag)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(diag, fmt, ap);
    va_end(ap);
    fputc('\n', diag);
}

struct template *template_load(const char *dir, const char *file, FILE *diag)
{
    char path[PATH_MAX];
    int n = file[0] == '/'
                ? snprintf(path, sizeof(path), "%s", file)
                : snprintf(path, sizeof(path), "%s/%s", dir ? dir : TEMPLATE_DEFAULT_DIR, file);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        diag_line(diag, "%s/%s: path too long", dir ? dir : TEMPLATE_DEFAULT_DIR, file);
        return NULL;
    }

    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        diag_line(diag, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        diag_line(diag, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }

    struct template *t = calloc(1, sizeof(*t));
    /* One byte more than the limit tells "too big" from "exactly 9000". */
    char *text = malloc(TEMPLATE_PARSE_MAX_BYTES + 2);
    char *p = strdup(path);
    if (!t || !text || !p) {
        diag_line(diag, "%s: out of memory", path);
        goto fail;
    }
    ssize_t got = read_bounded(fd, text, TEMPLATE_PARSE_MAX_BYTES + 1);
    if (got < 0) {
        diag_line(diag, "%s: read error: %s", path, strerror(errno));
        goto fail;
    }

    struct template_parse_pos pos;
    struct str view = str_make(text, (size_t)got);
    enum template_parse_check c = template_parse_validate(view, TEMPLATE_PARSE_MAX_BYTES, &pos);
    if (c == TEMPLATE_CHECK_TOO_BIG) {
        long long size = st.st_size > got ? (long long)st.st_size : (long long)got;
        diag_line(diag, "%s: %s (%lld bytes)", path, template_parse_check_name(c), size);
        goto fail;
    }
    if (c != TEMPLATE_CHECK_OK) {
        diag_line(diag, "%s:%zu: %s at byte %zu (column %zu)", path, pos.line,
                  template_parse_check_name(c), pos.offset, pos.column);
        goto fail;
    }
    close(fd);

    size_t skip = str_has_prefix(view, STR_LIT(utf8_bom)) ? sizeof(utf8_bom) - 1 : 0;
    memmove(text, text + skip, (size_t)got - skip);
    t->len = (size_t)got - skip;
    text[t->len] = '\0';
    t->text = text;
    t->path = p;
    t->mode = mode_for(file);
    return t;

fail:
    close(fd);
    free(p);
    free(text);
    free(t);
    return NULL;
}

struct str template_text(const struct template *t)
{
    return str_make(t->text, t->len);
}

enum template_parse_mode template_mode(const struct template *t)
{
    return t->mode;
}

const char *template_path(const struct template *t)
{
    return t->path;
}

enum template_parse_result template_render(const struct template *t,
                                           const struct template_parse_var *vars, size_t nvars,
                                           struct buf *out)
{
    return template_parse_render(template_text(t), t->mode, vars, nvars, out);
}

void template_free(struct template *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->text);
    free(t);
}

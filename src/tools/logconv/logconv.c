/* logconv - show Sekisho logs with readable local times (spec LOG-7).
 *
 *   logconv [--tail [num]] [--tailsec [sec]] [--today] [--noconv] [-r] [--cgi] [-h]
 *           [<log file> | -]
 *
 * Every log line of Sekisho (access, detect, info, error) starts with the
 * time in seconds since the epoch ("1419552128.199 ..."). logconv writes
 * each such line to stdout prefixed with its local date and time:
 *
 *   2014-12-26 09:02:08 : 1419552128.199     27 192.168.1.204 TCP_MISS/503 ...
 *
 * A line whose first field is not an epoch time (9 to 12 digits, optional
 * '.' and 1 to 9 digits, then a blank or the end of the line) is written
 * unchanged, so an already converted line is never converted twice.
 *
 * Options (an optional number is taken only when the next argument is all
 * digits; --tail=N and --tailsec=N also work):
 *   --tail [num]     only the last num lines of the input (default 10). The
 *                    file is read backwards from its end, never whole; a
 *                    pipe is first copied to an unlinked temporary file.
 *   --tailsec [sec]  only entries whose time is at most sec seconds before
 *                    now (default 60).
 *   --today          only entries of the current local day.
 *   --noconv         no time prefix, only the filtering.
 *   -r               the reverse: remove the prefix logconv added (only from
 *                    lines where it is followed by an epoch time).
 *   --cgi            the same output after a "Content-Type: text/plain" CGI
 *                    header.
 *   -h, --help       usage.
 * --tail is applied first (to the input lines), then --tailsec and --today
 * (both when both are given). With a time filter, a line without a time
 * (a continuation line) goes with the timed line before it; lines before
 * the first timed line are left out. Converted input may be filtered too:
 * the time is read after a logconv prefix.
 *
 * Memory is bounded whatever the file size or line length: only the first
 * LOGCONV_HEAD_MAX bytes of a line are examined and the rest is streamed.
 * The conversion of a line is proto/logconv_line's, shared with the web
 * console's log pages (core/log_view); this file is the command around it.
 * Exit status: 0 success, 1 I/O error, 2 usage error.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "proto/logconv_line.h"

#define LOGCONV_TAIL_DEFAULT    10
#define LOGCONV_TAILSEC_DEFAULT 60
/* Block size for reading a file backwards (--tail) and for spooling a pipe. */
#define LOGCONV_BLOCK  (64 * 1024)
#define LOGCONV_OUTBUF (256 * 1024)

struct logconv_opts {
    bool tail;
    unsigned long tail_lines;
    bool tailsec;
    unsigned long tail_seconds;
    bool today;
    bool noconv;
    bool reverse;
    bool cgi;
    const char *path; /* NULL or "-": stdin */
};

/* Filter state carried from line to line. */
struct logconv_filter {
    time_t now;
    struct tm today; /* local date of now */
    bool last_included;
};

static void usage(FILE *f)
{
    fputs("usage: logconv [options] [<log file> | -]\n"
          "  --tail [num]     output only the last num lines (default 10)\n"
          "  --tailsec [sec]  output only entries of the last sec seconds (default 60)\n"
          "  --today          output only entries of the current day\n"
          "  --noconv         do not add the converted time\n"
          "  -r               convert converted lines back to their original form\n"
          "  --cgi            write a CGI header (text/plain) first\n"
          "  -h, --help       this help\n"
          "Lines are prefixed with \"YYYY-MM-DD HH:MM:SS : \" (local time).\n",
          f);
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

static bool parse_count(const char *s, unsigned long *out)
{
    if (!all_digits(s))
        return false;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* option_with_count - "--name", "--name N" or "--name=N"; returns -1 when
 * arg is not this option, 0 on a bad number, 1 when taken. */
static int option_with_count(const char *name, int argc, char **argv, int *i, unsigned long *v)
{
    size_t n = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, n) != 0)
        return -1;
    if (arg[n] == '=')
        return parse_count(arg + n + 1, v) ? 1 : 0;
    if (arg[n] != '\0')
        return -1;
    if (*i + 1 < argc && all_digits(argv[*i + 1])) {
        (*i)++;
        return parse_count(argv[*i], v) ? 1 : 0;
    }
    return 1;
}

/* parse_args - returns 0, or the exit status to leave with (-1: help shown). */
static int parse_args(int argc, char **argv, struct logconv_opts *o)
{
    bool options_done = false;
    memset(o, 0, sizeof(*o));
    o->tail_lines = LOGCONV_TAIL_DEFAULT;
    o->tail_seconds = LOGCONV_TAILSEC_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->path) {
                fprintf(stderr, "logconv: only one log file may be given\n");
                return 2;
            }
            o->path = a;
        } else if (strcmp(a, "--") == 0) {
            options_done = true;
        } else if ((r = option_with_count("--tailsec", argc, argv, &i, &o->tail_seconds)) >= 0) {
            if (r == 0) {
                fprintf(stderr, "logconv: bad number for --tailsec\n");
                return 2;
            }
            o->tailsec = true;
        } else if ((r = option_with_count("--tail", argc, argv, &i, &o->tail_lines)) >= 0) {
            if (r == 0) {
                fprintf(stderr, "logconv: bad number for --tail\n");
                return 2;
            }
            o->tail = true;
        } else if (strcmp(a, "--today") == 0) {
            o->today = true;
        } else if (strcmp(a, "--noconv") == 0) {
            o->noconv = true;
        } else if (strcmp(a, "-r") == 0) {
            o->reverse = true;
        } else if (strcmp(a, "--cgi") == 0) {
            o->cgi = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return -1;
        } else {
            fprintf(stderr, "logconv: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    return 0;
}

static bool entry_wanted(const struct logconv_opts *o, const struct logconv_filter *fl, time_t t)
{
    if (o->tailsec && t < fl->now && (uintmax_t)(fl->now - t) > o->tail_seconds)
        return false;
    if (o->today) {
        struct tm tm;
        if (!localtime_r(&t, &tm) || tm.tm_year != fl->today.tm_year ||
            tm.tm_yday != fl->today.tm_yday)
            return false;
    }
    return true;
}

/* copy_rest - stream the rest of the current line (up to and including
 * its '\n') to out, or drop it when out is NULL. */
static void copy_rest(FILE *in, FILE *out)
{
    int c;
    while ((c = getc_unlocked(in)) != EOF) {
        if (out)
            putc_unlocked(c, out);
        if (c == '\n')
            break;
    }
}

/* convert_stream - process every line from the current position of in. */
static void convert_stream(FILE *in, FILE *out, const struct logconv_opts *o,
                           struct logconv_filter *fl)
{
    bool filtering = o->tailsec || o->today;
    enum logconv_mode mode = o->reverse  ? LOGCONV_REVERSE
                             : o->noconv ? LOGCONV_NOCONV
                                         : LOGCONV_CONVERT;
    char head[LOGCONV_HEAD_MAX];
    fl->last_included = !filtering;
    for (;;) {
        size_t n = 0;
        int c = EOF;
        bool line_done = false;
        while (n < sizeof(head) && (c = getc_unlocked(in)) != EOF) {
            head[n++] = (char)c;
            if (c == '\n') {
                line_done = true;
                break;
            }
        }
        if (n == 0)
            break;
        line_done = line_done || c == EOF;

        struct logconv_line l;
        logconv_line_parse(head, n, line_done, &l);
        bool include = l.timed ? entry_wanted(o, fl, l.time) : fl->last_included;
        if (l.timed)
            fl->last_included = include;
        if (!include) {
            if (!line_done)
                copy_rest(in, NULL);
            continue;
        }
        char prefix[LOGCONV_PREFIX_CAP];
        size_t skip;
        size_t pl = logconv_line_rewrite(&l, mode, prefix, &skip);
        if (pl)
            fwrite(prefix, 1, pl, out);
        fwrite(head + skip, 1, n - skip, out);
        if (!line_done)
            copy_rest(in, out);
    }
}

/* tail_offset - offset of the first of the last `lines` lines of f, found
 * by reading backwards from the end in LOGCONV_BLOCK blocks. A final line
 * without '\n' counts as a line. Returns -1 on a read error. */
static off_t tail_offset(FILE *f, unsigned long lines)
{
    static char block[LOGCONV_BLOCK];
    if (fseeko(f, 0, SEEK_END) < 0)
        return -1;
    off_t end = ftello(f);
    if (end <= 0 || lines == 0)
        return end < 0 ? -1 : end;
    off_t pos = end;
    bool skip_final_newline = true; /* the '\n' that ends the last line */
    while (pos > 0) {
        size_t n = pos > LOGCONV_BLOCK ? LOGCONV_BLOCK : (size_t)pos;
        pos -= (off_t)n;
        if (fseeko(f, pos, SEEK_SET) < 0 || fread(block, 1, n, f) != n)
            return -1;
        for (size_t i = n; i-- > 0;) {
            if (block[i] != '\n')
                continue;
            if (skip_final_newline && pos + (off_t)i == end - 1)
                continue;
            if (--lines == 0)
                return pos + (off_t)i + 1;
        }
        skip_final_newline = false;
    }
    return 0;
}

/* spool - copy a non-seekable input into an unlinked temporary file so
 * that --tail can read it backwards. */
static FILE *spool(FILE *in)
{
    static char block[LOGCONV_BLOCK];
    FILE *tmp = tmpfile();
    if (!tmp)
        return NULL;
    size_t n;
    while ((n = fread(block, 1, sizeof(block), in)) > 0) {
        if (fwrite(block, 1, n, tmp) != n) {
            fclose(tmp);
            return NULL;
        }
    }
    if (ferror(in)) {
        fclose(tmp);
        return NULL;
    }
    return tmp;
}

int main(int argc, char **argv)
{
    struct logconv_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;

    static char outbuf[LOGCONV_OUTBUF];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    if (o.cgi)
        fputs("Content-Type: text/plain\r\n\r\n", stdout);

    bool use_stdin = !o.path || strcmp(o.path, "-") == 0;
    FILE *in = use_stdin ? stdin : fopen(o.path, "rb");
    if (!in) {
        fprintf(stderr, "logconv: cannot open %s: %s\n", o.path, strerror(errno));
        fflush(stdout);
        return 1;
    }
    const char *name = use_stdin ? "standard input" : o.path;
    if (o.tail) {
        struct stat st;
        if (fstat(fileno(in), &st) < 0 || !S_ISREG(st.st_mode)) {
            FILE *tmp = spool(in);
            if (!tmp) {
                fprintf(stderr, "logconv: cannot spool %s: %s\n", name, strerror(errno));
                return 1;
            }
            if (!use_stdin)
                fclose(in);
            in = tmp;
            use_stdin = false;
        }
        off_t start = tail_offset(in, o.tail_lines);
        if (start < 0 || fseeko(in, start, SEEK_SET) < 0) {
            fprintf(stderr, "logconv: cannot read %s: %s\n", name, strerror(errno));
            return 1;
        }
    }

    struct logconv_filter fl = {.now = time(NULL)};
    if (!localtime_r(&fl.now, &fl.today)) {
        fprintf(stderr, "logconv: cannot convert the current time\n");
        return 1;
    }
    flockfile(in);
    flockfile(stdout);
    convert_stream(in, stdout, &o, &fl);
    funlockfile(stdout);
    funlockfile(in);

    rc = 0;
    if (ferror(in)) {
        fprintf(stderr, "logconv: read error on %s\n", name);
        rc = 1;
    }
    if (!use_stdin)
        fclose(in);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "logconv: write error: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}

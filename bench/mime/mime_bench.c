/* mime_bench - our MIME walker and decoders against GMime 3, for the
 * measurement of docs/internals/mime-gmime.md. Not part of the product:
 * bench/mime-vs-gmime.sh builds it against build/libsekisho.a and GMime.
 *
 *   mime_bench ours|gmime|gmime-mmap bench REPEAT FILE...
 *   mime_bench ours|gmime|gmime-mmap dump FILE...
 *
 * Both engines do what proxy_mail_scan needs from a spooled mail: find
 * every leaf part, its type, encoding and file name (RFC 2231 / 2047
 * decoded), and decode its body (base64, quoted-printable) into a sink
 * that counts the bytes and keeps a CRC-32.
 *   ours: the mail read into the heap up to 1 MiB, mmap'ed above (as
 *         proxy_mail_scan_open does); mime_walk(), then mime_b64 / mime_qp
 *         in 64 KiB chunks (as decode_part does).
 *   gmime: GMimeParser over g_mime_stream_fs_new(fd) (gmime-mmap:
 *         g_mime_stream_mmap_new), persist_stream on (the default: bodies
 *         stay offsets into the stream), g_mime_parser_construct_message,
 *         a recursive walk of the tree; each GMimePart's content
 *         (g_mime_part_get_content) read through a GMimeStreamFilter with
 *         the basic decoder of its encoding, 64 KiB at a time -- what
 *         g_mime_data_wrapper_write_to_stream does.
 * bench: each file REPEAT times; prints one line of totals and the
 *   process's wall time, CPU time and peak RSS (getrusage). Run each
 *   engine in a process of its own so that the RSS figures are its own.
 * dump: per file, one line per leaf (type, encoding, file name, decoded
 *   size, CRC-32) and one line of what the engine flagged (our MIME_F_*
 *   flags; GMime's parser warnings). */
#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "proto/mime_decode.h"
#include "proto/mime_walk.h"

#define CHUNK    65536
#define COPY_MAX (1024u * 1024u) /* PROXY_MAIL_SCAN_COPY_MAX */

struct sink {
    uint64_t leaves, bytes;
    uint32_t crc_all;
    bool dump;
    bool sample;       /* sample RssAnon at every leaf (single-pass runs) */
    long anon_peak_kb; /* the most RssAnon seen while a message was held */
};

/* rss_anon_kb - this process's anonymous resident memory: the heap and
 * stacks, without the file pages that a mapping of the mail makes
 * resident (those are the page cache, shared and reclaimable, and counted
 * in ru_maxrss). */
static long rss_anon_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "RssAnon:", 8) == 0)
            kb = strtol(line + 8, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static char chunk[CHUNK];

static void leaf_out(struct sink *s, const char *type, const char *cte, const char *name,
                     uint64_t n, uint32_t crc)
{
    s->leaves++;
    /* Every leaf of the first 1,000, then every 1,024th: reading /proc
     * for each of a million parts would be the figure measured. */
    if (s->sample && (s->leaves <= 1000 || (s->leaves & 1023) == 0)) {
        long kb = rss_anon_kb();
        if (kb > s->anon_peak_kb)
            s->anon_peak_kb = kb;
    }
    s->bytes += n;
    s->crc_all = (uint32_t)crc32(s->crc_all, (const Bytef *)&crc, sizeof(crc));
    if (s->dump) {
        /* Control bytes and backslashes of a file name as \xNN: one line
         * per leaf whatever the name holds. */
        printf("leaf\t%s\t%s\t", type, cte);
        for (const unsigned char *c = (const unsigned char *)(name ? name : ""); *c; c++)
            printf(*c < 0x20 || *c == 0x7f || *c == '\\' ? "\\x%02x" : "%c", *c);
        printf("\t%llu\t%08x\n", (unsigned long long)n, crc);
    }
}

/* ---- ours ------------------------------------------------------------ */

struct ours_ctx {
    struct sink *s;
};

static bool ours_part(void *arg, const struct mime_part *p)
{
    struct ours_ctx *c = arg;
    if (p->is_multipart || p->is_message)
        return true;
    const char *in = p->body.ptr;
    size_t left = p->body.len;
    uint64_t total = 0;
    uLong crc = crc32(0, Z_NULL, 0);
    if (p->cte == MIME_CTE_BASE64 || p->cte == MIME_CTE_QP) {
        struct mime_b64 b64;
        struct mime_qp qp;
        mime_b64_init(&b64);
        mime_qp_init(&qp);
        bool b = p->cte == MIME_CTE_BASE64;
        for (;;) {
            size_t used = 0, n;
            if (left > 0) {
                n = b ? mime_b64_decode(&b64, in, left, chunk, CHUNK, &used)
                      : mime_qp_decode(&qp, in, left, chunk, CHUNK, &used);
                in += used;
                left -= used;
            } else {
                n = b ? mime_b64_finish(&b64, chunk, CHUNK) : mime_qp_finish(&qp, chunk, CHUNK);
                if (n == 0)
                    break;
            }
            crc = crc32(crc, (const Bytef *)chunk, (uInt)n);
            total += n;
        }
    } else {
        while (left > 0) {
            size_t n = left < CHUNK ? left : CHUNK;
            crc = crc32(crc, (const Bytef *)in, (uInt)n);
            total += n;
            in += n;
            left -= n;
        }
    }
    leaf_out(c->s, p->type, mime_cte_name(p->cte), p->filename, total, (uint32_t)crc);
    return true;
}

static const char *const flag_names[] = {"BAD_BOUNDARY", "BAD_FILENAME", "UNTERMINATED",
                                         "TOO_DEEP",     "TOO_MANY",     "LONG_FILENAME",
                                         "NO_BOUNDARY",  "LONG_HEADER",  "AMBIGUOUS"};

static int ours_file(const char *path, struct sink *s)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        perror(path);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    char *m = NULL;
    bool heap = len <= COPY_MAX;
    if (len == 0) {
        close(fd);
        if (s->dump)
            printf("flags\tEMPTY\n");
        return 0;
    }
    if (heap) {
        m = malloc(len);
        size_t got = 0;
        while (m && got < len) {
            ssize_t r = pread(fd, m + got, len - got, (off_t)got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
    } else {
        m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
            m = NULL;
    }
    close(fd);
    if (!m)
        return -1;
    struct mime_summary *sum = malloc(sizeof(*sum));
    struct ours_ctx c = {s};
    mime_walk(m, len, ours_part, &c, sum);
    if (s->dump) {
        printf("flags\t");
        for (unsigned i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
            if (sum->flags & (1u << i))
                printf("%s ", flag_names[i]);
        printf("\n");
    }
    free(sum);
    if (heap)
        free(m);
    else
        munmap(m, len);
    return 0;
}

/* ---- GMime ------------------------------------------------------------ */

static GString *warnings;
static unsigned warn_count[32]; /* per GMimeParserWarning code, in one file */

static void gm_warn(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer arg)
{
    (void)offset;
    (void)item;
    (void)arg;
    if ((unsigned)code < 32)
        warn_count[code]++;
}

static void gm_leaf(GMimePart *part, struct sink *s)
{
    GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
    char *type = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("?");
    for (char *c = type; *c; c++)
        *c = (char)g_ascii_tolower(*c);
    GMimeContentEncoding enc = g_mime_part_get_content_encoding(part);
    const char *name = g_mime_part_get_filename(part);
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    uint64_t total = 0;
    uLong crc = crc32(0, Z_NULL, 0);
    if (w) {
        GMimeStream *src = g_mime_data_wrapper_get_stream(w);
        GMimeContentEncoding wenc = g_mime_data_wrapper_get_encoding(w);
        GMimeStream *f = g_mime_stream_filter_new(src);
        if (wenc != GMIME_CONTENT_ENCODING_DEFAULT) {
            GMimeFilter *dec = g_mime_filter_basic_new(wenc, FALSE);
            g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), dec);
            g_object_unref(dec);
        }
        g_mime_stream_reset(src);
        for (;;) {
            ssize_t n = g_mime_stream_read(f, chunk, CHUNK);
            if (n <= 0)
                break;
            crc = crc32(crc, (const Bytef *)chunk, (uInt)n);
            total += (uint64_t)n;
        }
        g_object_unref(f);
    }
    leaf_out(s, type,
             g_mime_content_encoding_to_string(enc) ? g_mime_content_encoding_to_string(enc)
                                                    : "7bit",
             name, total, (uint32_t)crc);
    g_free(type);
}

static void gm_walk(GMimeObject *o, struct sink *s, unsigned depth)
{
    if (!o || depth > 1000)
        return;
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++)
            gm_walk(g_mime_multipart_get_part(mp, i), s, depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (m)
            gm_walk(g_mime_message_get_mime_part(m), s, depth + 1);
    } else if (GMIME_IS_PART(o)) {
        gm_leaf(GMIME_PART(o), s);
    }
}

static int gmime_file(const char *path, struct sink *s, bool use_mmap, GMimeParserOptions *opts)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        perror(path);
        return -1;
    }
    GMimeStream *st = use_mmap ? g_mime_stream_mmap_new(fd, PROT_READ, MAP_PRIVATE)
                               : g_mime_stream_fs_new(fd); /* owns fd */
    if (!st) {
        close(fd);
        if (s->dump)
            printf("flags\tNO_STREAM\n");
        return 0;
    }
    if (use_mmap)
        g_mime_stream_mmap_set_owner(GMIME_STREAM_MMAP(st), TRUE);
    GMimeParser *p = g_mime_parser_new_with_stream(st);
    g_object_unref(st);
    memset(warn_count, 0, sizeof(warn_count));
    GMimeMessage *msg = g_mime_parser_construct_message(p, opts);
    if (msg) {
        gm_walk(g_mime_message_get_mime_part(msg), s, 0);
        g_object_unref(msg);
    }
    g_object_unref(p);
    if (s->dump) {
        g_string_truncate(warnings, 0);
        for (unsigned i = 0; i < 32; i++)
            if (warn_count[i])
                g_string_append_printf(warnings, "W%u*%u ", i, warn_count[i]);
        printf("flags\t%s%s\n", msg ? "" : "NO_MESSAGE ", warnings->str);
    }
    return 0;
}

/* ---- main ------------------------------------------------------------- */

static double tv_s(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s ours|gmime|gmime-mmap bench REPEAT FILE... | dump FILE...\n",
                argv[0]);
        return 2;
    }
    const char *engine = argv[1];
    bool dump = strcmp(argv[2], "dump") == 0;
    int first = dump ? 3 : 4;
    long repeat = dump ? 1 : strtol(argv[3], NULL, 10);
    bool ours = strcmp(engine, "ours") == 0;
    bool use_mmap = strcmp(engine, "gmime-mmap") == 0;
    GMimeParserOptions *opts = NULL;
    if (!ours) {
        g_mime_init();
        warnings = g_string_new("");
        opts = g_mime_parser_options_new();
        g_mime_parser_options_set_warning_callback(opts, gm_warn, NULL);
    }
    struct sink s = {0, 0, 0, dump, !dump && repeat == 1, 0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long r = 0; r < repeat; r++) {
        for (int i = first; i < argc; i++) {
            if (dump)
                printf("file\t%s\n", argv[i]);
            int rc = ours ? ours_file(argv[i], &s) : gmime_file(argv[i], &s, use_mmap, opts);
            if (rc < 0)
                return 1;
            fflush(stdout);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!dump) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("engine=%s mails=%ld leaves=%llu bytes=%llu crc=%08x wall=%.3f user=%.3f "
               "sys=%.3f maxrss_kb=%ld anon_peak_kb=%ld\n",
               engine, repeat * (argc - first), (unsigned long long)s.leaves,
               (unsigned long long)s.bytes, s.crc_all,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
               tv_s(ru.ru_utime), tv_s(ru.ru_stime), ru.ru_maxrss, s.anon_peak_kb);
    }
    if (opts)
        g_mime_parser_options_free(opts);
    if (!ours)
        g_mime_shutdown();
    return 0;
}

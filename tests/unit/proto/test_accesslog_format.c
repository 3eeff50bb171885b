/* Unit tests for proto/accesslog_format (spec LOG-2, C-40, C-41, G-20).
 *
 * Golden pairs in tests/golden/accesslog/ (run from the repo root), the
 * four lines observed in the knowledge base built field by field, the
 * G-20 alphabet byte by byte, truncation of long values, every enum name,
 * and hostile values that try to add fields or lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/accesslog_format.h"

#define GOLDEN_DIR       "tests/golden/accesslog"
#define GOLDEN_FILE_MAX  65536
#define GOLDEN_CASES_MAX 256
#define LINE_FIELDS      15

/* ---- helpers ---------------------------------------------------------- */

/* format r into a fresh ACCESSLOG_LINE_MAX buffer (NUL-terminated copy in out). */
static size_t format_record(const struct access_record *r, char *out, size_t cap)
{
    static char mem[ACCESSLOG_LINE_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(accesslog_format_line(&b, r));
    size_t n = buf_len(&b);
    assert_true(n < cap);
    memcpy(out, buf_rptr(&b), n);
    out[n] = '\0';
    return n;
}

static size_t count_char(const char *p, size_t n, char c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == c;
    return k;
}

/* assert_well_formed - one line, 15 fields, fixed ':' count per STAT field. */
static void assert_well_formed(const char *line, size_t n)
{
    assert_true(n > 0);
    assert_int_equal(line[n - 1], '\n');
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f)
            fail_msg("control byte 0x%02x at %zu", c, i);
    }
    const char *start[LINE_FIELDS] = {0};
    size_t len[LINE_FIELDS] = {0};
    size_t fields = 0;
    size_t i = 0;
    while (i + 1 < n) {
        if (line[i] == ' ') {
            i++;
            continue;
        }
        size_t j = i;
        while (j + 1 < n && line[j] != ' ')
            j++;
        if (fields < LINE_FIELDS) {
            start[fields] = line + i;
            len[fields] = j - i;
        }
        fields++;
        i = j;
    }
    assert_int_equal(fields, LINE_FIELDS);
    static const struct {
        int field;
        const char *prefix;
        size_t colons;
    } shape[] = {
        {3, "TCP_MISS/", 0},     {8, "DIRECT/", 0},      {10, "DETECT-STAT:", 6},
        {11, "ACTION:", 2},      {12, "PROXY-STAT:", 9}, {13, "PROTOCOL-STAT:", 3},
        {14, "PROXY-ERROR:", 2},
    };
    for (size_t k = 0; k < sizeof(shape) / sizeof(shape[0]); k++) {
        int f = shape[k].field;
        assert_true(len[f] >= strlen(shape[k].prefix));
        assert_memory_equal(start[f], shape[k].prefix, strlen(shape[k].prefix));
        if (shape[k].colons)
            assert_int_equal(count_char(start[f], len[f], ':'), shape[k].colons);
    }
    /* fields before the STAT part never contain the STAT separator ' ' */
    assert_int_equal(count_char(start[3], len[3], '/'), 1);
}

/* ---- golden files ----------------------------------------------------- */

struct golden {
    struct access_record r;
    char arena[GOLDEN_FILE_MAX];
    size_t used;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* unescape a golden value (\\ \n \r \t \xNN) into the arena. */
static struct str golden_value(struct golden *g, const char *p, size_t n)
{
    char *dst = g->arena + g->used;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < n) {
            char e = p[++i];
            if (e == 'n')
                c = '\n';
            else if (e == 'r')
                c = '\r';
            else if (e == 't')
                c = '\t';
            else if (e == 'x' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
                c = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
                i += 2;
            } else
                c = e;
        }
        dst[k++] = c;
    }
    g->used += k;
    return str_make(dst, k);
}

static long long golden_number(const char *key, struct str v)
{
    char tmp[64];
    assert_true(v.len > 0 && v.len < sizeof(tmp));
    memcpy(tmp, v.ptr, v.len);
    tmp[v.len] = '\0';
    char *end;
    errno = 0;
    long long x = strtoll(tmp, &end, 10);
    if (errno || *end)
        fail_msg("bad number for %s: %s", key, tmp);
    return x;
}

static unsigned golden_flags(struct str v, const char *(*name)(unsigned))
{
    unsigned bits = 0;
    struct str head, tail = v;
    while (tail.len) {
        str_cut(tail, ',', &head, &tail);
        bool found = false;
        for (unsigned bit = 1; bit && !found; bit <<= 1) {
            const char *nm = name(bit);
            if (nm && str_eq_cstr(head, nm)) {
                bits |= bit;
                found = true;
            }
        }
        if (!found)
            fail_msg("unknown flag %.*s", (int)head.len, head.ptr);
    }
    return bits;
}

static void golden_set(struct golden *g, const char *key, struct str v)
{
    struct access_record *r = &g->r;
    struct {
        const char *key;
        struct str *field;
    } strs[] = {
        {"client", &r->client},
        {"method", &r->method},
        {"url", &r->url},
        {"user", &r->user},
        {"server_ip", &r->server_ip},
        {"content_type", &r->content_type},
        {"detect_name", &r->detect_name},
        {"detect_file", &r->detect_file},
        {"quarantine_file", &r->quarantine_file},
        {"service", &r->service},
        {"host_ip", &r->host_ip},
        {"proto1", &r->proto1},
        {"proto2", &r->proto2},
        {"proxy_error", &r->proxy_error},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strcmp(key, strs[i].key) == 0) {
            *strs[i].field = v;
            return;
        }
    }
    if (strcmp(key, "time") == 0) {
        struct str sec, msec;
        if (str_cut(v, '.', &sec, &msec))
            r->time_msec = (unsigned)golden_number(key, msec);
        r->time_sec = golden_number(key, sec);
    } else if (strcmp(key, "elapsed") == 0) {
        r->elapsed_ms = (long)golden_number(key, v);
    } else if (strcmp(key, "status") == 0) {
        r->status = (unsigned)golden_number(key, v);
    } else if (strcmp(key, "size") == 0) {
        r->size = (uint64_t)golden_number(key, v);
    } else if (strcmp(key, "internal_id") == 0) {
        r->internal_id = (unsigned)golden_number(key, v);
    } else if (strcmp(key, "pid") == 0) {
        r->pid = (long)golden_number(key, v);
    } else if (strcmp(key, "files") == 0) {
        r->files = (unsigned)golden_number(key, v);
    } else if (strcmp(key, "checks") == 0) {
        r->checks = (unsigned)golden_number(key, v);
    } else if (strcmp(key, "scan_ms") == 0) {
        r->scan_ms = (uint64_t)golden_number(key, v);
    } else if (strcmp(key, "details") == 0) {
        r->details = golden_flags(v, accesslog_detail_name);
    } else if (strcmp(key, "proto_flags") == 0) {
        r->proto_flags = golden_flags(v, accesslog_proto_flag_name);
    } else if (strcmp(key, "result") == 0) {
        unsigned i = 0;
        while (i < ACCESSLOG_RESULT_COUNT &&
               !str_eq_cstr(v, accesslog_result_name((enum accesslog_result)i)))
            i++;
        assert_true(i < ACCESSLOG_RESULT_COUNT);
        r->result = (enum accesslog_result)i;
    } else if (strcmp(key, "action") == 0) {
        unsigned i = 0;
        while (i < ACCESSLOG_ACTION_COUNT &&
               !str_eq_cstr(v, accesslog_action_name((enum accesslog_action)i)))
            i++;
        assert_true(i < ACCESSLOG_ACTION_COUNT);
        r->action = (enum accesslog_action)i;
    } else {
        fail_msg("unknown key %s", key);
    }
}

static size_t read_file(const char *path, char *mem, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run from the repo root)", path);
    size_t n = fread(mem, 1, cap, f);
    assert_true(n < cap);
    fclose(f);
    return n;
}

static void golden_load(struct golden *g, const char *path)
{
    static char text[GOLDEN_FILE_MAX];
    memset(&g->r, 0, sizeof(g->r));
    g->used = 0;
    size_t n = read_file(path, text, sizeof(text));
    struct str rest = str_make(text, n), line;
    while (rest.len) {
        str_cut(rest, '\n', &line, &rest);
        if (line.len == 0 || line.ptr[0] == '#')
            continue;
        struct str key, val;
        if (!str_cut(line, '=', &key, &val))
            fail_msg("%s: line without '=': %.*s", path, (int)line.len, line.ptr);
        char k[32];
        assert_true(key.len < sizeof(k));
        str_copy_view(k, sizeof(k), key);
        golden_set(g, k, golden_value(g, val.ptr, val.len));
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_golden_files(void **state)
{
    (void)state;
    static struct golden g;
    static char expect[ACCESSLOG_LINE_MAX + 1], got[ACCESSLOG_LINE_MAX + 1];
    char *names[GOLDEN_CASES_MAX];
    size_t count = 0;
    DIR *d = opendir(GOLDEN_DIR);
    if (!d)
        fail_msg("cannot open %s (run from the repo root)", GOLDEN_DIR);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 3 && strcmp(e->d_name + len - 3, ".in") == 0 && count < GOLDEN_CASES_MAX)
            names[count++] = strndup(e->d_name, len - 3);
    }
    closedir(d);
    qsort(names, count, sizeof(names[0]), cmp_names);
    assert_true(count >= 14);
    for (size_t i = 0; i < count; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s.in", GOLDEN_DIR, names[i]);
        golden_load(&g, path);
        snprintf(path, sizeof(path), "%s/%s.out", GOLDEN_DIR, names[i]);
        size_t elen = read_file(path, expect, sizeof(expect));
        expect[elen] = '\0';
        size_t glen = format_record(&g.r, got, sizeof(got));
        if (glen != elen || memcmp(got, expect, elen) != 0)
            fail_msg("golden %s:\n expected: %s got:      %s", names[i], expect, got);
        assert_well_formed(got, glen);
        print_message("golden %s ok\n", names[i]);
        free(names[i]);
    }
}

/* ---- the observed lines, field by field -------------------------------- */

static void test_observed_http_lines(void **state)
{
    (void)state;
    char got[ACCESSLOG_LINE_MAX];
    struct access_record r = {
        .time_sec = 1327996843,
        .time_msec = 799,
        .elapsed_ms = 9153,
        .client = STR_LIT("192.51.16.1"),
        .status = 200,
        .size = 227,
        .method = STR_LIT("GET"),
        .url = STR_LIT("http://100.100.100.100/"),
        .server_ip = STR_LIT("127.0.0.1"),
        .content_type = STR_LIT("text/html"),
        .result = ACCESSLOG_RESULT_CLEAN,
        .action = ACCESSLOG_ACTION_NONE,
        .service = STR_LIT("http"),
        .internal_id = 0,
        .pid = 5547,
        .host_ip = STR_LIT("192.51.16.1"),
        .files = 1,
        .checks = 1,
        .scan_ms = 0,
    };
    format_record(&r, got, sizeof(got));
    assert_string_equal(got, "1327996843.799   9153 192.51.16.1 TCP_MISS/200 227 GET "
                             "http://100.100.100.100/ - DIRECT/127.0.0.1 text/html "
                             "DETECT-STAT:CLEAN::::: ACTION:NONE: "
                             "PROXY-STAT:http:0:5547:192.51.16.1:1:1:0:: PROTOCOL-STAT::: "
                             "PROXY-ERROR::\n");

    r = (struct access_record){
        .time_sec = 1328058010,
        .time_msec = 794,
        .elapsed_ms = 494,
        .client = STR_LIT("10.70.72.46"),
        .status = 200,
        .size = 98204,
        .method = STR_LIT("GET"),
        .url = STR_LIT("http://203.216.243.240/"),
        .server_ip = STR_LIT("203.216.243.240"),
        .content_type = STR_LIT("text/html"),
        .service = STR_LIT("http"),
        .internal_id = 3,
        .pid = 5962,
        .host_ip = STR_LIT("10.70.72.46"),
        .files = 1,
        .details = ACCESSLOG_DETAIL_PASS_TO,
    };
    format_record(&r, got, sizeof(got));
    assert_string_equal(got, "1328058010.794    494 10.70.72.46 TCP_MISS/200 98204 GET "
                             "http://203.216.243.240/ - DIRECT/203.216.243.240 text/html "
                             "DETECT-STAT:CLEAN::::: ACTION:NONE: "
                             "PROXY-STAT:http:3:5962:10.70.72.46:1:0:0:PASS_TO: "
                             "PROTOCOL-STAT::: PROXY-ERROR::\n");

    r = (struct access_record){
        .time_sec = 1419552128,
        .time_msec = 199,
        .elapsed_ms = 27,
        .client = STR_LIT("192.168.1.204"),
        .status = 503,
        .size = 0,
        .method = STR_LIT("GET"),
        .url = STR_LIT("http://www.TARGET-HOST.com/japanese/index.html"),
        .server_ip = STR_LIT("2xx.2xx.1xx.5x"),
        .service = STR_LIT("http"),
        .internal_id = 60,
        .pid = 4044,
        .host_ip = STR_LIT("192.168.1.204"),
        .files = 1,
        .proxy_error = STR_LIT("CONNECT(www.TARGET-HOST.com:80)/connect: No route to host"),
    };
    format_record(&r, got, sizeof(got));
    assert_string_equal(got, "1419552128.199     27 192.168.1.204 TCP_MISS/503 0 GET "
                             "http://www.TARGET-HOST.com/japanese/index.html - "
                             "DIRECT/2xx.2xx.1xx.5x - DETECT-STAT:CLEAN::::: ACTION:NONE: "
                             "PROXY-STAT:http:60:4044:192.168.1.204:1:0:0:: PROTOCOL-STAT::: "
                             "PROXY-ERROR:CONNECT(www.TARGET-HOST.com%3a80)/"
                             "connect%3a+No+route+to+host:\n");
}

static void test_observed_smtp_line(void **state)
{
    (void)state;
    char got[ACCESSLOG_LINE_MAX];
    struct access_record r = {
        .time_sec = 1364446311,
        .time_msec = 151,
        .elapsed_ms = 10755,
        .client = STR_LIT("xxx.xxx.xxx.xxx"),
        .status = 0,
        .size = 110825,
        .method = STR_LIT("GET"),
        .url = STR_LIT("mail:xxxxx@xxxxx.xx.xx"),
        .server_ip = STR_LIT("127.0.0.1"),
        .content_type = STR_LIT("multipart/related"),
        .result = ACCESSLOG_RESULT_INFECTED,
        .detect_name = STR_LIT("VIRUSGW/SPAM_CT/3/3/"
                               "str=0001.0A3C0009.5153CC75.001A,ss=3,vtr=str,vl=3,fgs=16"),
        .action = ACCESSLOG_ACTION_BLACKHOLE,
        .service = STR_LIT("smtp"),
        .internal_id = 3,
        .pid = 12296,
        .host_ip = STR_LIT("xxx.xxx.xxx.xxx"),
        .files = 1,
        .checks = 0,
        .scan_ms = 214,
        .proto1 = STR_LIT("xxxxx@xxxxx.xx.xx"),
        .proto2 = STR_LIT("<8c3401ce2baa$a8548870$90b01dca@Jordon_Briggs>"),
    };
    format_record(&r, got, sizeof(got));
    /* Observed as "... TCP_MISS/000 110825 GET mail:..." (000:40); the
     * time prefix is ours, the rest is the observed text. */
    assert_string_equal(
        got, "1364446311.151  10755 xxx.xxx.xxx.xxx TCP_MISS/000 110825 GET "
             "mail:xxxxx@xxxxx.xx.xx - DIRECT/127.0.0.1 multipart/related "
             "DETECT-STAT:INFECTED:VIRUSGW/SPAM_CT/3/3/"
             "str%3d0001.0A3C0009.5153CC75.001A%2css%3d3%2cvtr%3dstr%2cvl%3d3%2cfgs%3d16:::: "
             "ACTION:BLACKHOLE: PROXY-STAT:smtp:3:12296:xxx.xxx.xxx.xxx:1:0:214:: "
             "PROTOCOL-STAT:xxxxx@xxxxx.xx.xx:<8c3401ce2baa$a8548870$90b01dca@Jordon_Briggs>: "
             "PROXY-ERROR::\n");
}

/* ---- encodings --------------------------------------------------------- */

static void test_value_alphabet(void **state)
{
    (void)state;
    static const char kept[] = "-_.!~*'()/@<>$[]";
    for (unsigned c = 0; c < 256; c++) {
        char mem[8], ch = (char)c, want[4];
        struct buf b;
        buf_init(&b, mem, sizeof(mem));
        size_t used = 99;
        assert_true(accesslog_encode_value(&b, str_make(&ch, 1), 8, &used));
        assert_int_equal(used, 1);
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum || (c != 0 && memchr(kept, (int)c, sizeof(kept) - 1)))
            snprintf(want, sizeof(want), "%c", (int)c);
        else if (c == ' ')
            snprintf(want, sizeof(want), "+");
        else
            snprintf(want, sizeof(want), "%%%02x", c);
        if (!str_eq_cstr(buf_view(&b), want))
            fail_msg("byte 0x%02x: got %.*s want %s", c, (int)buf_len(&b), buf_rptr(&b), want);
    }
    /* observed examples (000:40, 000:84) */
    char mem[64];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(accesslog_encode_value(&b, STR_LIT("a:b=c,d e/.()@<>$_-"), 64, NULL));
    assert_true(str_eq_cstr(buf_view(&b), "a%3ab%3dc%2cd+e/.()@<>$_-"));
}

static void test_token_alphabet(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 256; c++) {
        char mem[8], ch = (char)c, want[4];
        struct buf b;
        buf_init(&b, mem, sizeof(mem));
        assert_true(accesslog_encode_token(&b, str_make(&ch, 1), 8, NULL));
        if (c > 0x20 && c < 0x7f)
            snprintf(want, sizeof(want), "%c", (int)c);
        else
            snprintf(want, sizeof(want), "%%%02x", c);
        if (!str_eq_cstr(buf_view(&b), want))
            fail_msg("byte 0x%02x: got %.*s want %s", c, (int)buf_len(&b), buf_rptr(&b), want);
    }
    char mem[8];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(accesslog_encode_token(&b, STR_NULL, 8, NULL));
    assert_true(str_eq_cstr(buf_view(&b), "-"));
}

static void test_encode_cut_whole_escape(void **state)
{
    (void)state;
    char mem[16];
    struct buf b;
    size_t used;
    /* "ab" fits, ':' needs 3 bytes but only 2 remain under cap 4 */
    buf_init(&b, mem, sizeof(mem));
    assert_true(accesslog_encode_value(&b, STR_LIT("ab:cd"), 4, &used));
    assert_true(str_eq_cstr(buf_view(&b), "ab"));
    assert_int_equal(used, 2);
    buf_init(&b, mem, sizeof(mem));
    assert_true(accesslog_encode_value(&b, STR_LIT("ab:cd"), 5, &used));
    assert_true(str_eq_cstr(buf_view(&b), "ab%3a"));
    assert_int_equal(used, 3);
    /* all or nothing against the buffer's space */
    buf_init(&b, mem, 3);
    assert_false(accesslog_encode_value(&b, STR_LIT("a:"), 16, &used));
    assert_int_equal(buf_len(&b), 0);
    buf_init(&b, mem, 4);
    assert_true(accesslog_encode_value(&b, STR_LIT("a:"), 16, &used));
    assert_int_equal(buf_len(&b), 4);
}

/* ---- truncation -------------------------------------------------------- */

static void fill(char *p, size_t n, char c)
{
    memset(p, c, n);
}

static void test_long_url_and_detection_fields(void **state)
{
    (void)state;
    static char url[2098], name[1999], file[1999], quar[1999], line[ACCESSLOG_LINE_MAX];
    memcpy(url, "http://example.com/", 19);
    fill(url + 19, sizeof(url) - 19, 'u');
    fill(name, sizeof(name), 'N');
    fill(file, sizeof(file), 'F');
    fill(quar, sizeof(quar), 'Q');
    struct access_record r = {
        .time_sec = 1327996843,
        .client = STR_LIT("192.0.2.1"),
        .status = 200,
        .method = STR_LIT("GET"),
        .url = str_make(url, sizeof(url)),
        .result = ACCESSLOG_RESULT_INFECTED,
        .detect_name = str_make(name, sizeof(name)),
        .detect_file = str_make(file, sizeof(file)),
        .quarantine_file = str_make(quar, sizeof(quar)),
        .action = ACCESSLOG_ACTION_DELETE,
        .service = STR_LIT("http"),
    };
    size_t n = format_record(&r, line, sizeof(line));
    assert_well_formed(line, n);
    /* the longest URL HTTP accepts (HTTP-4) is logged whole */
    assert_non_null(memmem(line, n, url, sizeof(url)));
    /* detection fields are cut to their caps, keeping their positions */
    char *ds = strstr(line, "DETECT-STAT:INFECTED:");
    assert_non_null(ds);
    ds += strlen("DETECT-STAT:INFECTED:");
    assert_int_equal(strspn(ds, "N"), ACCESSLOG_DETECT_NAME_MAX);
    ds += ACCESSLOG_DETECT_NAME_MAX;
    assert_int_equal(*ds++, ':');
    assert_int_equal(strspn(ds, "F"), ACCESSLOG_DETECT_FILE_MAX);
    ds += ACCESSLOG_DETECT_FILE_MAX;
    assert_int_equal(*ds++, ':');
    assert_int_equal(strspn(ds, "Q"), ACCESSLOG_QUARANTINE_MAX);
    ds += ACCESSLOG_QUARANTINE_MAX;
    assert_true(strncmp(ds, ":: ACTION:DELETE:", 17) == 0);
}

static void test_url_cut_at_cap(void **state)
{
    (void)state;
    static char url[6000], line[ACCESSLOG_LINE_MAX];
    /* 'a' then 8-bit bytes: each costs 3, the cut must not split one */
    url[0] = 'a';
    fill(url + 1, sizeof(url) - 1, (char)0xe6);
    struct access_record r = {.url = str_make(url, sizeof(url))};
    size_t n = format_record(&r, line, sizeof(line));
    assert_well_formed(line, n);
    char *u = strstr(line, " - a%e6");
    assert_non_null(u);
    u += 3;
    size_t ulen = strcspn(u, " ");
    assert_true(ulen <= ACCESSLOG_URL_MAX);
    assert_true(ulen > ACCESSLOG_URL_MAX - 3);
    assert_int_equal((ulen - 1) % 3, 0);
    assert_int_equal(u[ulen - 3], '%');
}

static void test_worst_case_fits_line_max(void **state)
{
    (void)state;
    /* Every value huge and made only of bytes that expand to %xx: the
     * line must still fit in ACCESSLOG_LINE_MAX and stay well formed. */
    static char v[20000], line[ACCESSLOG_LINE_MAX + 1];
    fill(v, sizeof(v), ':');
    struct str s = str_make(v, sizeof(v));
    struct access_record r = {
        .time_sec = INT64_MIN,
        .time_msec = 999,
        .elapsed_ms = 2147483647L,
        .client = s,
        .status = 999,
        .size = UINT64_MAX,
        .method = s,
        .url = s,
        .user = s,
        .server_ip = s,
        .content_type = s,
        .result = ACCESSLOG_RESULT_INFECTED,
        .detect_name = s,
        .detect_file = s,
        .quarantine_file = s,
        .action = ACCESSLOG_ACTION_CHANGE_SUBJECT,
        .service = s,
        .internal_id = UINT32_MAX,
        .pid = -2147483647L,
        .host_ip = s,
        .files = UINT32_MAX,
        .checks = UINT32_MAX,
        .scan_ms = UINT64_MAX,
        .details = ACCESSLOG_DETAIL_ALL,
        .proto1 = s,
        .proto2 = s,
        .proxy_error = s,
    };
    size_t n = format_record(&r, line, sizeof(line));
    assert_true(n <= ACCESSLOG_LINE_MAX);
    assert_well_formed(line, n);
    /* ' ' is also expanded in tokens */
    fill(v, sizeof(v), ' ');
    n = format_record(&r, line, sizeof(line));
    assert_well_formed(line, n);
}

static void test_buffer_too_small_is_all_or_nothing(void **state)
{
    (void)state;
    char line[ACCESSLOG_LINE_MAX];
    struct access_record r = {
        .time_sec = 1,
        .url = STR_LIT("http://x/"),
        .detect_name = STR_LIT("a:b"),
        .proxy_error = STR_LIT("err or"),
    };
    size_t n = format_record(&r, line, sizeof(line));
    char mem[ACCESSLOG_LINE_MAX];
    struct buf b;
    for (size_t cap = 0; cap < n; cap++) {
        buf_init(&b, mem, sizeof(mem));
        assert_true(buf_append_cstr(&b, "keep"));
        b.cap = 4 + cap;
        assert_false(accesslog_format_line(&b, &r));
        assert_int_equal(buf_len(&b), 4);
    }
    buf_init(&b, mem, n);
    assert_true(accesslog_format_line(&b, &r));
    assert_memory_equal(mem, line, n);
}

/* ---- names --------------------------------------------------------------- */

static void test_enum_names(void **state)
{
    (void)state;
    assert_string_equal(accesslog_result_name(ACCESSLOG_RESULT_CLEAN), "CLEAN");
    assert_string_equal(accesslog_result_name(ACCESSLOG_RESULT_INFECTED), "INFECTED");
    assert_string_equal(accesslog_result_name(ACCESSLOG_RESULT_SPAM), "SPAM");
    assert_string_equal(accesslog_result_name((enum accesslog_result)ACCESSLOG_RESULT_COUNT),
                        "UNKNOWN");
    static const char *const actions[] = {"NONE",     "PASS",      "DELETE",        "DENY",
                                          "SENDBACK", "BLACKHOLE", "CHANGE_SUBJECT"};
    assert_int_equal(sizeof(actions) / sizeof(actions[0]), ACCESSLOG_ACTION_COUNT);
    for (unsigned i = 0; i < ACCESSLOG_ACTION_COUNT; i++)
        assert_string_equal(accesslog_action_name((enum accesslog_action)i), actions[i]);
    assert_string_equal(accesslog_action_name((enum accesslog_action)99), "UNKNOWN");

    assert_string_equal(accesslog_detail_name(ACCESSLOG_DETAIL_VSD_ENCRYPTED), "VSD_ENCRYPTED");
    assert_string_equal(accesslog_detail_name(ACCESSLOG_DETAIL_VSD_MAXNESTED), "VSD_MAXNESTED");
    assert_string_equal(accesslog_detail_name(ACCESSLOG_DETAIL_VSD_SCANTIMEOUT), "VSD_SCANTIMEOUT");
    assert_string_equal(accesslog_detail_name(ACCESSLOG_DETAIL_OVER_FILESIZE), "OVER_FILESIZE");
    assert_string_equal(accesslog_detail_name(ACCESSLOG_DETAIL_PASS_TO), "PASS_TO");
    assert_string_equal(accesslog_detail_name(ACCESSLOG_DETAIL_PASS_USER_AGENT), "PASS_USER_AGENT");
    assert_string_equal(accesslog_detail_name(ACCESSLOG_DETAIL_PASS_EXT), "PASS_EXT");
    assert_null(accesslog_detail_name(0));
    assert_null(accesslog_detail_name(ACCESSLOG_DETAIL_PASS_TO | ACCESSLOG_DETAIL_PASS_EXT));
    assert_string_equal(accesslog_detail_name(ACCESSLOG_DETAIL_VSD_UNDECODED), "VSD_UNDECODED");
    assert_string_equal(accesslog_detail_name(ACCESSLOG_DETAIL_OVER_SCANLIMIT), "OVER_SCANLIMIT");
    assert_null(accesslog_detail_name(1u << 9));

    assert_string_equal(accesslog_proto_flag_name(ACCESSLOG_PROTO_KEEPALIVE), "KEEPALIVE");
    assert_string_equal(accesslog_proto_flag_name(ACCESSLOG_PROTO_PROGRESS), "PROGRESS");
    assert_string_equal(accesslog_proto_flag_name(ACCESSLOG_PROTO_TRICKLE), "TRICKLE");
    assert_null(accesslog_proto_flag_name(1u << 3));
}

static void test_unknown_bits_and_enums_stay_well_formed(void **state)
{
    (void)state;
    char line[ACCESSLOG_LINE_MAX];
    struct access_record r = {
        .result = (enum accesslog_result)77,
        .action = (enum accesslog_action)77,
        .details = 0xffffffffu,
        .proto_flags = 0xfffffff8u, /* only unknown bits: proto1 is used */
        .proto1 = STR_LIT("p:1"),
    };
    size_t n = format_record(&r, line, sizeof(line));
    assert_well_formed(line, n);
    assert_non_null(strstr(line, "DETECT-STAT:UNKNOWN::::: ACTION:UNKNOWN: "));
    assert_non_null(strstr(line, ":VSD_ENCRYPTED,VSD_MAXNESTED,VSD_SCANTIMEOUT,OVER_FILESIZE,"
                                 "PASS_TO,PASS_USER_AGENT,PASS_EXT,VSD_UNDECODED,OVER_SCANLIMIT: "
                                 "PROTOCOL-STAT:p%3a1:: "));
    r.proto_flags = ACCESSLOG_PROTO_PROGRESS | 0x100u;
    n = format_record(&r, line, sizeof(line));
    assert_non_null(strstr(line, " PROTOCOL-STAT:PROGRESS:: "));
}

static void test_hostile_values_cannot_forge(void **state)
{
    (void)state;
    char line[ACCESSLOG_LINE_MAX];
    static const char *const evil[] = {
        " ",
        "a b c d e f g",
        "x\r\n1327996843.799 1 1.2.3.4 TCP_MISS/200 1 GET http://forged/ - DIRECT/- - "
        "DETECT-STAT:CLEAN::::: ACTION:NONE: PROXY-STAT:http:0:1:1:1:1:0:: PROTOCOL-STAT::: "
        "PROXY-ERROR::",
        ":::::::::",
        "\n",
        "\r",
        "\t\v\f",
        "%0a",
    };
    for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
        struct str s = str_from_cstr(evil[i]);
        struct access_record r = {
            .client = s,
            .method = s,
            .url = s,
            .user = s,
            .server_ip = s,
            .content_type = s,
            .detect_name = s,
            .detect_file = s,
            .quarantine_file = s,
            .service = s,
            .host_ip = s,
            .proto1 = s,
            .proto2 = s,
            .proxy_error = s,
        };
        size_t n = format_record(&r, line, sizeof(line));
        assert_well_formed(line, n);
        assert_int_equal(count_char(line, n, '\n'), 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_files),
        cmocka_unit_test(test_observed_http_lines),
        cmocka_unit_test(test_observed_smtp_line),
        cmocka_unit_test(test_value_alphabet),
        cmocka_unit_test(test_token_alphabet),
        cmocka_unit_test(test_encode_cut_whole_escape),
        cmocka_unit_test(test_long_url_and_detection_fields),
        cmocka_unit_test(test_url_cut_at_cap),
        cmocka_unit_test(test_worst_case_fits_line_max),
        cmocka_unit_test(test_buffer_too_small_is_all_or_nothing),
        cmocka_unit_test(test_enum_names),
        cmocka_unit_test(test_unknown_bits_and_enums_stay_well_formed),
        cmocka_unit_test(test_hostile_values_cannot_forge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

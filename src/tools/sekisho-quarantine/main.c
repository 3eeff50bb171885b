/* sekisho-quarantine - the quarantine from the command line.
 *
 *   sekisho-quarantine [-f INI] list [-n N]
 *   sekisho-quarantine [-f INI] show ID
 *   sekisho-quarantine [-f INI] release ID [--by NAME] [--timeout S]
 *   sekisho-quarantine [-f INI] delete ID
 *   sekisho-quarantine [-f INI] zip ID OUT [--password P]
 *
 * The same core functions as the console's quarantine page
 * (core/quarantine_store, core/quarantine_release, core/quarantine_zip):
 * list prints the newest N items (default 100) of every service's
 * quarantine_dir, one tab-separated line each under a header line; show
 * prints one item's meta and its object's size; release delivers a mail
 * again through [smtp] parent_server_host:port (or marks an HTTP/FTP
 * object released); delete removes the object and its meta; zip writes
 * the object and its meta as a zip protected by the password (default
 * "infected", AES-256) to OUT ("-": standard output). An ID names its
 * service ("smtp-1765112345.4242.1"), whose view of the ini gives the
 * directory. Exit status 0, or 1 with the reason on standard error.
 *
 * What it owns: nothing beyond the call. What it does not do: no other
 * files than the quarantine's, no network but the release's SMTP parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/quarantine_release.h"
#include "core/quarantine_store.h"
#include "core/quarantine_zip.h"
#include "lib/str.h"
#include "proto/quarantine_meta.h"

#define DEFAULT_INI   "conf/sekisho.ini"
#define LIST_DEFAULT  100
#define RELEASE_STEPS 60 /* seconds each SMTP step may take */
#define LINE_MAX_Q    (QMETA_TEXT_MAX + 256)

static void usage(FILE *f)
{
    fprintf(f, "usage: sekisho-quarantine [-f INI] list [-n N]\n"
               "       sekisho-quarantine [-f INI] show ID\n"
               "       sekisho-quarantine [-f INI] release ID [--by NAME] [--timeout S]\n"
               "       sekisho-quarantine [-f INI] delete ID\n"
               "       sekisho-quarantine [-f INI] zip ID OUT [--password P]\n"
               "  INI defaults to " DEFAULT_INI "; OUT \"-\" is standard output; the zip's\n"
               "  password defaults to \"" QZIP_DEFAULT_PASSWORD "\".\n"
               "exit status: 0 done, 1 refused or failed (the reason on standard error)\n");
}

static int fail(const char *fmt, const char *a, const char *b)
{
    fputs("sekisho-quarantine: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

/* id_service - the view an id belongs to. */
static bool id_service(const char *id, enum service *svc)
{
    struct qmeta_id q;
    if (!qmeta_id_parse(str_from_cstr(id), &q))
        return false;
    for (int s = SVC_HTTP; s < SVC_COUNT; s++)
        if (str_eq_cstr(q.service, service_name((enum service)s))) {
            *svc = (enum service)s;
            return true;
        }
    return false;
}

/* load - the view svc of ini; NULL after the loader's own messages. */
static struct config *load(const char *ini, enum service svc)
{
    struct config *cfg = config_load(ini, svc, stderr);
    if (!cfg)
        fail("%s: cannot load the configuration%s", ini, "");
    return cfg;
}

static void time_text(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, cap, "%" PRId64, t);
}

/* ---- list ------------------------------------------------------------------ */

struct row {
    struct qmeta_id key; /* its numbers (set once every row is in) */
    char id[QMETA_ID_MAX + 1];
    char *line;
};

struct rows {
    struct row *v;
    size_t n, cap;
};

/* field - v with tabs and line ends as spaces (the columns stay columns). */
static void field(struct buf *b, struct str v)
{
    for (size_t i = 0; i < v.len; i++) {
        char c = v.ptr[i] == '\t' ? ' ' : v.ptr[i];
        buf_append(b, &c, 1);
    }
    buf_append(b, "\t", 1);
}

static bool add_row(void *arg, const struct qstore_item *it)
{
    struct rows *rs = arg;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 64;
        struct row *v = realloc(rs->v, cap * sizeof(*v));
        if (!v)
            return false;
        rs->v = v;
        rs->cap = cap;
    }
    static char mem[LINE_MAX_Q];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    const struct qmeta *m = &it->meta;
    char when[32], rel[64] = "-";
    time_text(m->time, when, sizeof(when));
    field(&b, str_from_cstr(it->id));
    field(&b, str_from_cstr(when));
    field(&b, m->service);
    field(&b, str_from_cstr(qmeta_result_name(m->result)));
    field(&b, m->detection);
    field(&b, m->client);
    field(&b, m->user.len ? m->user : STR_LIT("-"));
    field(&b, m->has_sender ? (m->sender.len ? m->sender : STR_LIT("<>")) : STR_LIT("-"));
    size_t mark = b.wpos;
    for (size_t i = 0; i < m->nrcpt; i++) {
        if (i)
            buf_append(&b, ",", 1);
        buf_append_str(&b, m->rcpt[i]);
    }
    if (b.wpos == mark)
        buf_append(&b, "-", 1);
    buf_append(&b, "\t", 1);
    field(&b, m->url);
    buf_printf(&b, "%" PRIu64 "\t", it->object_size);
    if (m->released)
        time_text(m->released_time, rel, sizeof(rel));
    buf_append_cstr(&b, rel);
    struct row *r = &rs->v[rs->n];
    str_copy(r->id, sizeof(r->id), it->id);
    r->line = strndup(buf_rptr(&b), buf_len(&b));
    if (!r->line)
        return false;
    rs->n++;
    return true;
}

/* newest_first - by the numbers of the ids, then their text (the views
 * of key are not used: qsort moves the rows they point into). */
static int newest_first(const void *a, const void *b)
{
    const struct qmeta_id *x = &((const struct row *)a)->key, *y = &((const struct row *)b)->key;
    if (x->time != y->time)
        return x->time > y->time ? -1 : 1;
    if (x->pid != y->pid)
        return x->pid > y->pid ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq > y->seq ? -1 : 1;
    return strcmp(((const struct row *)b)->id, ((const struct row *)a)->id);
}

static int cmd_list(const char *ini, size_t max)
{
    char *dirs[SVC_COUNT] = {0};
    size_t ndirs = 0;
    struct rows rs = {0};
    int rc = 0;
    for (int s = SVC_HTTP; s < SVC_COUNT && rc == 0; s++) {
        struct config *cfg = load(ini, (enum service)s);
        if (!cfg) {
            rc = 1;
            break;
        }
        bool seen = false;
        for (size_t i = 0; i < ndirs; i++)
            seen = seen || strcmp(dirs[i], cfg->quarantine_dir) == 0;
        if (!seen)
            dirs[ndirs++] = strdup(cfg->quarantine_dir);
        config_free(cfg);
    }
    for (size_t i = 0; i < ndirs && rc == 0; i++) {
        /* A quarantine_dir not made yet (no service ran) holds nothing. */
        if (!dirs[i] || (qstore_list(dirs[i], max, add_row, &rs) < 0 && errno != ENOENT))
            rc = fail("%s: cannot list: %s", dirs[i] ? dirs[i] : "?", strerror(errno));
    }
    for (size_t i = 0; i < rs.n; i++)
        qmeta_id_parse(str_from_cstr(rs.v[i].id), &rs.v[i].key);
    if (rs.n)
        qsort(rs.v, rs.n, sizeof(*rs.v), newest_first);
    if (rc == 0) {
        printf("id\ttime\tservice\tresult\tdetection\tclient\tuser\tsender\trecipients\turl\tsize"
               "\treleased\n");
        for (size_t i = 0; i < rs.n && i < max; i++)
            printf("%s\n", rs.v[i].line);
    }
    for (size_t i = 0; i < rs.n; i++)
        free(rs.v[i].line);
    free(rs.v);
    for (size_t i = 0; i < ndirs; i++)
        free(dirs[i]);
    return rc;
}

/* ---- one item ---------------------------------------------------------- */

static int cmd_show(const struct config *cfg, const char *id)
{
    struct qstore_item *it = malloc(sizeof(*it));
    if (!it)
        return fail("%s%s", "out of memory", "");
    enum qstore_status st = qstore_get(cfg->quarantine_dir, id, it);
    int rc = 0;
    if (st != QSTORE_OK)
        rc = fail("%s: %s", id, qstore_status_text(st));
    else
        printf("id: %s\nobject_size: %" PRIu64 "\n%s", it->id, it->object_size, it->text);
    free(it);
    return rc;
}

static void default_by(char *out, size_t cap)
{
    const struct passwd *pw = getpwuid(getuid());
    if (pw && pw->pw_name)
        snprintf(out, cap, "%s", pw->pw_name);
    else
        snprintf(out, cap, "uid-%u", (unsigned)getuid());
}

static int cmd_release(const struct config *cfg, const char *id, const char *by, unsigned timeout_s,
                       const char *ini)
{
    /* The mail goes through the SMTP service's parent, whatever service
     * the id is of (only mails are sent). */
    struct config *smtp = load(ini, SVC_SMTP);
    if (!smtp)
        return 1;
    struct qrelease_target t = {.host = smtp->parent_server_host,
                                .port = (uint16_t)smtp->parent_server_port,
                                .helo = smtp->hostname,
                                .timeout_s = timeout_s};
    char text[QRELEASE_TEXT_MAX];
    enum qrelease_outcome o =
        qrelease_run(cfg->quarantine_dir, id, &t, by, (int64_t)time(NULL), text, sizeof(text));
    config_free(smtp);
    if (o == QRELEASE_DELIVERED || o == QRELEASE_MARKED) {
        printf("%s: %s\n", id, text);
        return 0;
    }
    return fail("%s: %s", id, text);
}

static int cmd_delete(const struct config *cfg, const char *id)
{
    enum qstore_status st = qstore_delete(cfg->quarantine_dir, id);
    if (st != QSTORE_OK)
        return fail("%s: %s", id, qstore_status_text(st));
    printf("%s: deleted\n", id);
    return 0;
}

static int cmd_zip(const struct config *cfg, const char *id, const char *out, const char *password)
{
    bool to_stdout = strcmp(out, "-") == 0;
    char tmpdir[4096] = "/tmp";
    if (!to_stdout) {
        /* The archive is made beside OUT: where we may write anyway. */
        const char *slash = strrchr(out, '/');
        if (slash)
            snprintf(tmpdir, sizeof(tmpdir), "%.*s", slash == out ? 1 : (int)(slash - out), out);
        else
            snprintf(tmpdir, sizeof(tmpdir), ".");
    } else if (getenv("TMPDIR") && *getenv("TMPDIR"))
        snprintf(tmpdir, sizeof(tmpdir), "%s", getenv("TMPDIR"));
    int fd = to_stdout ? STDOUT_FILENO
                       : open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return fail("%s: %s", out, strerror(errno));
    char text[QZIP_TEXT_MAX];
    enum qstore_status st =
        qzip_write(cfg->quarantine_dir, id, password, tmpdir, fd, text, sizeof(text));
    if (!to_stdout && close(fd) < 0 && st == QSTORE_OK) {
        st = QSTORE_IO;
        snprintf(text, sizeof(text), "%s", strerror(errno));
    }
    if (st != QSTORE_OK) {
        if (!to_stdout)
            unlink(out);
        return fail("%s: %s", id, text);
    }
    if (!to_stdout)
        fprintf(stderr, "%s: %s written to %s\n", id, text, out);
    return 0;
}

/* ---- arguments ----------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *ini = DEFAULT_INI, *by = NULL, *password = QZIP_DEFAULT_PASSWORD;
    const char *pos[4] = {0};
    size_t npos = 0, max = LIST_DEFAULT;
    unsigned timeout_s = RELEASE_STEPS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-f") == 0 && has_value) {
            ini = argv[++i];
        } else if (strcmp(a, "--by") == 0 && has_value) {
            by = argv[++i];
        } else if (strcmp(a, "--password") == 0 && has_value) {
            password = argv[++i];
        } else if ((strcmp(a, "-n") == 0 || strcmp(a, "--timeout") == 0) && has_value) {
            uint64_t v;
            const char *val = argv[++i];
            if (!str_to_u64(str_from_cstr(val), strcmp(a, "-n") == 0 ? QSTORE_LIST_MAX : 3600,
                            &v) ||
                v == 0)
                return fail("%s: not a number in range: %s", a, val);
            if (strcmp(a, "-n") == 0)
                max = (size_t)v;
            else
                timeout_s = (unsigned)v;
        } else if (a[0] == '-' && a[1] != '\0') {
            usage(stderr);
            return fail("unknown option or missing value: %s%s", a, "");
        } else if (npos < sizeof(pos) / sizeof(pos[0])) {
            pos[npos++] = a;
        } else {
            usage(stderr);
            return fail("too many arguments%s%s", "", "");
        }
    }
    if (npos == 0) {
        usage(stderr);
        return 1;
    }
    const char *cmd = pos[0];
    if (strcmp(cmd, "list") == 0 && npos == 1)
        return cmd_list(ini, max);
    bool one = npos == 2 && (strcmp(cmd, "show") == 0 || strcmp(cmd, "release") == 0 ||
                             strcmp(cmd, "delete") == 0);
    bool zip = npos == 3 && strcmp(cmd, "zip") == 0;
    if (!one && !zip) {
        usage(stderr);
        return fail("unknown command or wrong arguments: %s%s", cmd, "");
    }
    const char *id = pos[1];
    enum service svc;
    if (!id_service(id, &svc))
        return fail("%s: %s", id, qstore_status_text(QSTORE_BAD_ID));
    struct config *cfg = load(ini, svc);
    if (!cfg)
        return 1;
    int rc;
    char who[256];
    if (!by) {
        default_by(who, sizeof(who));
        by = who;
    }
    if (strcmp(cmd, "show") == 0)
        rc = cmd_show(cfg, id);
    else if (strcmp(cmd, "release") == 0)
        rc = cmd_release(cfg, id, by, timeout_s, ini);
    else if (strcmp(cmd, "delete") == 0)
        rc = cmd_delete(cfg, id);
    else
        rc = cmd_zip(cfg, id, pos[2], password);
    config_free(cfg);
    return rc;
}

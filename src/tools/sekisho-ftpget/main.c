/* sekisho-ftpget - fetch one ftp:// URL with the proxy's FTP client.
 *
 *   sekisho-ftpget [--user U] [--password P] [--ipv6] [--timeout SEC]
 *                  [--html FILE] host port path outfile
 *
 * Runs an event loop with core/ftp_client (the code the HTTP proxy uses
 * for FTP over HTTP), writes the file or the raw LIST output to outfile
 * and prints one line:
 *
 *   FILE bytes=<n> server=<ip>
 *   LISTING bytes=<n> server=<ip>
 *   ERROR status=<http status> code=<ftp reply code> error=<text>
 *
 * path is the URL path as it appears in the URL (percent-encoded). With
 * --html, a LISTING is also rendered as the proxy's HTML page
 * (proto/ftp_listing_format) into FILE. Exit status: 0 FILE or LISTING,
 * 1 ERROR, 2 usage or local failure.
 *
 * What it owns: the loop, the resolver and outfile. What it does not do:
 * no HTTP, no scanning. It exists so the integration tests can drive the
 * FTP client against a real vsftpd (tests/integration/test_ftp_client.py).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ftp_client.h"
#include "lib/buf.h"
#include "lib/dns.h"
#include "lib/ev.h"
#include "lib/str.h"
#include "proto/ftp_listing_format.h"

#define FTPGET_LISTING_MAX (16u * 1024 * 1024) /* bytes of LIST output rendered with --html */
#define FTPGET_PAGE_FACTOR 8                   /* page bytes per listing byte, at most */
#define FTPGET_PAGE_MIN    4096

struct ftpget {
    struct ev_loop *loop;
    struct ftp_client_outcome outcome;
    bool done;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sekisho-ftpget [--user U] [--password P] [--ipv6] [--timeout SEC]\n"
               "                      [--html FILE] host port path outfile\n"
               "exit status: 0 FILE or LISTING, 1 ERROR, 2 usage or local failure\n");
}

static void on_done(void *arg, const struct ftp_client_outcome *o)
{
    struct ftpget *g = arg;
    g->outcome = *o;
    g->done = true;
    if (g->loop)
        ev_break(g->loop);
}

static bool parse_u16(const char *s, uint16_t *out)
{
    uint64_t v;
    if (!str_to_u64(str_from_cstr(s), 65535, &v))
        return false;
    *out = (uint16_t)v;
    return true;
}

/* render - the LIST output in fd as the proxy's HTML page into path. */
static int render(int fd, const char *host, uint16_t port, const char *url_path, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size > FTPGET_LISTING_MAX) {
        fprintf(stderr, "sekisho-ftpget: listing too large to render\n");
        return -1;
    }
    size_t n = (size_t)st.st_size;
    char *listing = malloc(n + 1);
    size_t cap = n * FTPGET_PAGE_FACTOR + FTPGET_PAGE_MIN;
    struct buf *page = buf_new(cap);
    char *dec = malloc(strlen(url_path) + 1);
    int rc = -1;
    if (!listing || !page || !dec || pread(fd, listing, n, 0) != (ssize_t)n) {
        fprintf(stderr, "sekisho-ftpget: cannot read the listing\n");
        goto out;
    }
    size_t dn = ftp_listing_path_decode(str_from_cstr(url_path), dec, strlen(url_path) + 1);
    if (dn == (size_t)-1 || !ftp_listing_format(page, str_from_cstr(host), port, str_make(dec, dn),
                                                str_make(listing, n))) {
        fprintf(stderr, "sekisho-ftpget: the page does not fit\n");
        goto out;
    }
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0 || write(out, buf_rptr(page), buf_len(page)) != (ssize_t)buf_len(page)) {
        fprintf(stderr, "sekisho-ftpget: %s: %s\n", path, strerror(errno));
        if (out >= 0)
            close(out);
        goto out;
    }
    close(out);
    rc = 0;
out:
    free(listing);
    buf_free(page);
    free(dec);
    return rc;
}

int main(int argc, char **argv)
{
    struct ftp_client_request req;
    memset(&req, 0, sizeof(req));
    const char *html = NULL;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(opt, "--ipv6") == 0) {
            req.ipv6 = true;
            continue;
        }
        if (strcmp(opt, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        const char *val = argv[++i];
        uint64_t v;
        if (strcmp(opt, "--user") == 0) {
            req.user = val;
        } else if (strcmp(opt, "--password") == 0) {
            req.password = val;
        } else if (strcmp(opt, "--html") == 0) {
            html = val;
        } else if (strcmp(opt, "--timeout") == 0 && str_to_u64(str_from_cstr(val), 86400, &v) &&
                   v > 0) {
            req.timeout = (unsigned)v;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (argc - i != 4 || !parse_u16(argv[i + 1], &req.port)) {
        usage(stderr);
        return 2;
    }
    req.host = argv[i];
    req.path = argv[i + 2];
    const char *outfile = argv[i + 3];
    signal(SIGPIPE, SIG_IGN);
    int fd = open(outfile, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "sekisho-ftpget: %s: %s\n", outfile, strerror(errno));
        return 2;
    }
    req.data_fd = fd;
    struct ftpget g;
    memset(&g, 0, sizeof(g));
    struct ev_loop *loop = ev_loop_new();
    struct dns *dns = loop ? dns_new(loop) : NULL;
    if (!loop || !dns) {
        fprintf(stderr, "sekisho-ftpget: cannot create the event loop or resolver\n");
        return 2;
    }
    struct ftp_client *f = ftp_client_start(loop, dns, &req, on_done, &g);
    if (f) {
        g.loop = loop;
        ev_run(loop);
    }
    int rc = 2;
    if (g.done) {
        const struct ftp_client_outcome *o = &g.outcome;
        if (o->result == FTP_CLIENT_ERROR) {
            printf("ERROR status=%d code=%d error=%s\n", o->status, o->reply_code, o->error);
            rc = 1;
        } else {
            printf("%s bytes=%llu server=%s\n", ftp_client_result_name(o->result),
                   (unsigned long long)o->bytes, o->server_ip);
            rc = 0;
            if (html && o->result == FTP_CLIENT_LISTING &&
                render(fd, req.host, req.port, req.path, html) < 0)
                rc = 2;
        }
    }
    fflush(stdout);
    close(fd);
    dns_free(dns);
    ev_loop_free(loop);
    return rc;
}

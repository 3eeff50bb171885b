/* create_userdb - build the user database from userdb.txt (AUTH-2, CLI-5).
 *
 *   create_userdb userdb.db < userdb.txt
 *   create_userdb userdb.db userdb.txt
 *
 * Reads the whole text (at most USERDB_FILE_MAX bytes), refuses it as a
 * whole when one record is bad or two records have one key, and otherwise
 * replaces userdb.db atomically (core/userdb: a new file renamed over the
 * old one, so the proxies never read a half-built database). On success
 * prints "create_userdb: N users, M POP/FTP entries -> userdb.db" and
 * exits 0; on failure prints "create_userdb: <input>:<line>: <reason>"
 * (input "stdin" or the file named) or, for an I/O error, the file and the
 * step, on stderr, exits 1 and leaves the old database as it was. Exit 2
 * for a usage error.
 *
 * What it owns: the text it reads, wiped (explicit_bzero) before exit: it
 * holds passwords. What it does not do: no hashing or database code of its
 * own (core/userdb).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/userdb.h"
#include "proto/userdb_parse.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: create_userdb DB [TEXT]\n"
               "  Builds the user database DB (e.g. userdb.db) from TEXT (e.g. userdb.txt), or\n"
               "  from standard input: create_userdb userdb.db < userdb.txt\n"
               "  TEXT: alternating lines, a user name then its password; user@server,\n"
               "  user#server and @server entries (POP/FTP) may have an empty password line.\n"
               "  DB is replaced atomically; it is left as it was when TEXT is refused.\n"
               "exit status: 0 built, 1 refused or failed, 2 usage\n");
}

/* read_all - all of fd, at most USERDB_FILE_MAX bytes (one more is read
 * to tell a larger input). 0, or -1 with errno (EFBIG: too large). */
static int read_all(int fd, char **out, size_t *out_len)
{
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    for (;;) {
        if (len == cap) {
            if (cap > USERDB_FILE_MAX) {
                explicit_bzero(buf, len);
                free(buf);
                errno = EFBIG;
                return -1;
            }
            size_t ncap = cap * 2 > USERDB_FILE_MAX + 1 ? USERDB_FILE_MAX + 1 : cap * 2;
            char *n = malloc(ncap);
            if (!n) {
                explicit_bzero(buf, len);
                free(buf);
                return -1;
            }
            /* Not realloc: the old block, holding passwords, is wiped first. */
            memcpy(n, buf, len);
            explicit_bzero(buf, len);
            free(buf);
            buf = n;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            explicit_bzero(buf, len);
            free(buf);
            errno = err;
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    if (len > USERDB_FILE_MAX) {
        explicit_bzero(buf, len);
        free(buf);
        errno = EFBIG;
        return -1;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || argc > 3 || argv[1][0] == '\0' || (argv[1][0] == '-' && argv[1][1] != '\0')) {
        usage(stderr);
        return 2;
    }
    const char *db_path = argv[1];
    const char *input = argc == 3 ? argv[2] : "stdin";
    int fd = 0;
    if (argc == 3 && (fd = open(argv[2], O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "create_userdb: %s: %s\n", input, strerror(errno));
        return 1;
    }
    char *text = NULL;
    size_t len = 0;
    int rc = read_all(fd, &text, &len);
    int err = errno;
    if (fd != 0)
        close(fd);
    if (rc < 0) {
        if (err == EFBIG)
            fprintf(stderr, "create_userdb: %s: larger than %zu bytes (USERDB_FILE_MAX)\n", input,
                    (size_t)USERDB_FILE_MAX);
        else
            fprintf(stderr, "create_userdb: %s: %s\n", input, strerror(err));
        return 1;
    }
    struct userdb_build_report r;
    rc = userdb_build(text, len, db_path, &r);
    err = errno;
    explicit_bzero(text, len);
    free(text);
    if (rc < 0) {
        if (err != EINVAL)
            fprintf(stderr, "create_userdb: %s\n", r.reason);
        else if (r.line > 0)
            fprintf(stderr, "create_userdb: %s:%u: %s\n", input, r.line, r.reason);
        else
            fprintf(stderr, "create_userdb: %s: %s\n", input, r.reason);
        return 1;
    }
    printf("create_userdb: %u users, %u POP/FTP entries -> %s\n", r.users, r.entries, db_path);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* sekisho-scan - command-line client of sekisho-scand.
 *
 *   sekisho-scan [--socket PATH] [--service http|smtp|pop|ftp] [--riskware]
 *                [--pass-riskware PATTERNS] [--timeout MS] [--block-encrypted]
 *                [--block-maxnested] [--block-scantimeout] [--reload] [--version]
 *                [FILE...]
 *
 * Prints one line per file, "FILE: CLEAN|INFECTED <name>|ERROR <text>
 * flags=<details> scan_us=<n>"; with --reload first
 * "RELOAD: OK|FAILED signatures=<n>[ error=<text>]"; with --version then
 * the definitions of the engine in service: "engine: libclamav <v>
 * engine=<hex id> loaded=<ISO time> signatures=<n>" and one line per
 * database file, "<name> version=<n>|custom signatures=<n> built=<ISO
 * time>" (proto/db_version, the lines of `make show-dbversion`). Exit
 * status: 0 all clean (and the reload, if asked, succeeded), 1 something
 * infected, 2 an error (sekisho-scand not reachable, too). Every request
 * goes over one connection, one at a time; a file's descriptor is passed,
 * never its bytes (the file is opened here, so scand needs no access to
 * its path).
 *
 * What it owns: its connection and the files it opens. What it does not
 * do: no scanning itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/scan_client.h"
#include "lib/buf.h"
#include "lib/str.h"
#include "proto/db_version.h"
#include "proto/scanreq.h"

#define SCAN_DEFAULT_SOCKET "run/sekisho-scand.sock"
#define SCAN_TIMEOUT_MAX_MS 86400000u /* one day */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sekisho-scan [--socket PATH] [--service http|smtp|pop|ftp] [--riskware]\n"
            "                    [--pass-riskware PATTERNS] [--timeout MS] [--block-encrypted]\n"
            "                    [--block-maxnested] [--block-scantimeout] [--reload] [--version]\n"
            "                    [FILE...]\n"
            "  --reload   have sekisho-scand compile its definitions anew first\n"
            "  --version  print the definitions sekisho-scand scans with: libclamav's\n"
            "             version, the engine's id, load time and signatures, and each\n"
            "             database's version, signatures and build time\n"
            "exit status: 0 clean, 1 infected, 2 error (sekisho-scand not reachable too)\n");
}

static int parse_service(const char *s, enum scanreq_service *out)
{
    static const enum scanreq_service all[] = {SCANREQ_SVC_HTTP, SCANREQ_SVC_SMTP, SCANREQ_SVC_POP,
                                               SCANREQ_SVC_FTP};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(s, scanreq_service_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}

/* print_version - the engine in service and its databases. 0, or 2 when
 * the request failed. */
static int print_version(int sock, uint64_t id)
{
    static struct scanreq_version v; /* 6 KB */
    if (scan_client_version(sock, id, &v) < 0) {
        fprintf(stderr, "sekisho-scan: version: %s\n", strerror(errno));
        return 2;
    }
    char loaded[DB_VERSION_TIME_MAX];
    db_version_time_format((int64_t)v.loaded_at, loaded, sizeof(loaded));
    printf("engine: libclamav %s engine=%016llx loaded=%s signatures=%llu\n", v.libclamav,
           (unsigned long long)v.engine_id, loaded, (unsigned long long)v.signatures);
    for (size_t i = 0; i < v.count; i++) {
        char line[DB_VERSION_LINE_MAX];
        db_version_format(&v.dbs[i], line, sizeof(line));
        printf("%s\n", line);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *socket_path = SCAN_DEFAULT_SOCKET;
    bool reload = false, version = false;
    struct scanreq_request req;
    memset(&req, 0, sizeof(req));
    req.type = SCANREQ_T_SCAN;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--riskware") == 0) {
            req.flags |= SCANREQ_RF_RISKWARE;
        } else if (strcmp(a, "--block-encrypted") == 0) {
            req.flags |= SCANREQ_RF_BLOCK_ENCRYPTED;
        } else if (strcmp(a, "--block-maxnested") == 0) {
            req.flags |= SCANREQ_RF_BLOCK_MAXNESTED;
        } else if (strcmp(a, "--block-scantimeout") == 0) {
            req.flags |= SCANREQ_RF_BLOCK_SCANTIMEOUT;
        } else if (strcmp(a, "--reload") == 0) {
            reload = true;
        } else if (strcmp(a, "--version") == 0) {
            version = true;
        } else if (v == NULL) {
            fprintf(stderr, "sekisho-scan: %s needs a value\n", a);
            return 2;
        } else if (strcmp(a, "--socket") == 0) {
            socket_path = v;
            i++;
        } else if (strcmp(a, "--service") == 0) {
            if (parse_service(v, &req.service) < 0) {
                fprintf(stderr, "sekisho-scan: unknown service %s\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--pass-riskware") == 0) {
            if (str_copy(req.patterns, sizeof(req.patterns), v) >= sizeof(req.patterns)) {
                fprintf(stderr, "sekisho-scan: --pass-riskware longer than %d bytes\n",
                        SCANREQ_PATTERNS_MAX);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--timeout") == 0) {
            uint64_t ms;
            if (!str_to_u64(str_from_cstr(v), SCAN_TIMEOUT_MAX_MS, &ms)) {
                fprintf(stderr, "sekisho-scan: --timeout wants 0..%u ms\n", SCAN_TIMEOUT_MAX_MS);
                return 2;
            }
            req.timeout_ms = (uint32_t)ms;
            i++;
        } else {
            fprintf(stderr, "sekisho-scan: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc && !reload && !version) {
        usage(stderr);
        return 2;
    }

    int sock = scan_client_connect(socket_path, false);
    if (sock < 0) {
        /* LOG-E24, with Sekisho's names. */
        fprintf(stderr,
                "###ERROR### scan_open_session: Cannot connect to sekisho-scand's socket(%s). "
                "sekisho-scand may be not running. Please run 'rc.sekisho_scand restart' to "
                "restart sekisho-scand. /strerror(%d)=%s\n",
                socket_path, errno, strerror(errno));
        return 2;
    }
    int worst = 0;
    uint64_t id = 1;
    struct scanreq_reply rep;
    if (reload) {
        struct scanreq_request rl;
        memset(&rl, 0, sizeof(rl));
        rl.type = SCANREQ_T_RELOAD;
        rl.id = id++;
        if (scan_client_call(sock, &rl, -1, &rep) < 0) {
            fprintf(stderr, "sekisho-scan: reload: %s\n", strerror(errno));
            close(sock);
            return 2;
        }
        printf("RELOAD: %s signatures=%llu%s%s\n", rep.reload_ok ? "OK" : "FAILED",
               (unsigned long long)rep.signatures, rep.error[0] ? " error=" : "", rep.error);
        if (!rep.reload_ok)
            worst = 2;
    }
    if (version && print_version(sock, id++) != 0) {
        close(sock);
        return 2;
    }
    for (; i < argc; i++) {
        const char *path = argv[i];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            printf("%s: ERROR %s flags= scan_us=0\n", path, strerror(errno));
            worst = 2;
            continue;
        }
        const char *base = strrchr(path, '/');
        str_copy(req.filename, sizeof(req.filename), base ? base + 1 : path);
        req.id = id++;
        int rc = scan_client_call(sock, &req, fd, &rep);
        close(fd);
        if (rc < 0) {
            fprintf(stderr, "sekisho-scan: %s: lost sekisho-scand: %s\n", path, strerror(errno));
            close(sock);
            return 2;
        }
        char det[128]; /* every VSD_* name fits */
        struct buf d;
        buf_init(&d, det, sizeof(det) - 1);
        scanreq_details_format(rep.details, &d);
        const char *what = rep.verdict == SCANREQ_INFECTED ? rep.name
                           : rep.verdict == SCANREQ_ERROR  ? rep.error
                                                           : "";
        printf("%s: %s%s%s flags=%s scan_us=%llu\n", path, scanreq_verdict_name(rep.verdict),
               what[0] ? " " : "", what, buf_cstr(&d), (unsigned long long)rep.scan_us);
        int level = rep.verdict == SCANREQ_ERROR ? 2 : rep.verdict == SCANREQ_INFECTED ? 1 : 0;
        if (level == 2 || (level == 1 && worst == 0))
            worst = level;
    }
    fflush(stdout);
    close(sock);
    return worst;
}

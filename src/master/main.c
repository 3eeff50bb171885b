/* sekisho - command line of the proxy (CLI-2).
 *
 *   sekisho --http|--smtp|--pop|--ftp -f conf/sekisho.ini [--daemon] [-q] [-v] [-P port] [-h]
 *           [--pidfile path]
 *   sekisho --http|--smtp|--pop|--ftp -f conf/sekisho.ini --service-enabled
 *
 * The second form only answers whether the rc script should start the
 * service (<svc>_service, exit 0 yes / 1 no / 2 invalid configuration /
 * 3 switched on but not implemented here; service_switch.h).
 *
 * The protocol defaults from the program name (sekisho_http, ...); when
 * options conflict the last one wins. The configuration is loaded and
 * validated completely before anything else happens: an invalid file is
 * refused with file:line: reason on stderr and exit status 1.
 */
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/version.h"
#include "lib/buf.h"
#include "lib/memtune.h"
#include "lib/str.h"
#include "master/master.h"
#include "master/service_switch.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sekisho --http|--smtp|--pop|--ftp -f <inifile> [options]\n"
            "  --http --smtp --pop --ftp  service to run (default from the program name)\n"
            "  -f <inifile>               configuration (conf/sekisho.ini)\n"
            "  --daemon                   run in the background\n"
            "  -q                         quiet: no detailed output\n"
            "  -v                         verbose: stay in the foreground, copy logs to stderr\n"
            "  -P <port>                  listen on this port (overrides svcport)\n"
            "  --pidfile <path>           write the master's pid there (rc scripts)\n"
            "  --service-enabled          only tell whether <svc>_service=yes: exit 0 yes,\n"
            "                             1 no, 2 invalid configuration, 3 not implemented\n"
            "  -h                         this help\n"
            "sekisho %s\n",
            SEKISHO_VERSION);
}

static enum service service_from_progname(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    if (strstr(base, "_smtp"))
        return SVC_SMTP;
    if (strstr(base, "_pop"))
        return SVC_POP;
    if (strstr(base, "_ftp"))
        return SVC_FTP;
    if (strstr(base, "_http"))
        return SVC_HTTP;
    return SVC_COUNT;
}

int main(int argc, char **argv)
{
    memtune_keep_freed_memory(); /* inherited by the workers */
    struct master_options opt = {.svc = service_from_progname(argv[0])};
    bool query_switch = false;
    static char argv_text[1024];
    struct buf at;
    buf_init(&at, argv_text, sizeof(argv_text));
    for (int i = 0; i < argc; i++) {
        if (!buf_printf(&at, "%s ", argv[i]))
            break;
    }
    buf_cstr(&at);
    opt.argv_text = argv_text;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--http"))
            opt.svc = SVC_HTTP;
        else if (!strcmp(a, "--smtp"))
            opt.svc = SVC_SMTP;
        else if (!strcmp(a, "--pop"))
            opt.svc = SVC_POP;
        else if (!strcmp(a, "--ftp"))
            opt.svc = SVC_FTP;
        else if (!strcmp(a, "--daemon"))
            opt.daemon = true;
        else if (!strcmp(a, "--service-enabled"))
            query_switch = true;
        else if (!strcmp(a, "--pidfile") && i + 1 < argc)
            opt.pidfile = argv[++i];
        else if (!strcmp(a, "-q"))
            opt.quiet = true, opt.verbose = false;
        else if (!strcmp(a, "-v"))
            opt.verbose = true, opt.quiet = false, opt.daemon = false;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(a, "-f") || !strcmp(a, "-P")) && i + 1 < argc) {
            if (a[1] == 'f') {
                opt.ini_path = argv[++i];
            } else {
                uint64_t port;
                if (!str_to_u64(str_from_cstr(argv[++i]), 65535, &port) || port == 0) {
                    fprintf(stderr, "sekisho: -P %s: not a TCP port (1-65535)\n", argv[i]);
                    return 2;
                }
                opt.port_override = (int)port;
            }
        } else {
            fprintf(stderr, "sekisho: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (opt.svc == SVC_COUNT) {
        fprintf(stderr, "sekisho: no service given (--http, --smtp, --pop or --ftp)\n");
        usage(stderr);
        return 2;
    }
    if (!opt.ini_path) {
        fprintf(stderr, "sekisho: no configuration file given (-f conf/sekisho.ini)\n");
        return 2;
    }
    struct config *cfg = config_load(opt.ini_path, opt.svc, stderr);
    if (!cfg) {
        fprintf(stderr, "sekisho: %s: configuration refused%s\n", opt.ini_path,
                query_switch ? "" : ", not starting");
        return query_switch ? SERVICE_SWITCH_INVALID : 1;
    }
    if (query_switch) {
        int status = service_switch_report(cfg, master_service_built(opt.svc), stdout);
        config_free(cfg);
        return status;
    }
    config_trace_keys(cfg);
    if (!master_service_built(opt.svc)) {
        fprintf(stderr, "sekisho: the %s service is not implemented yet\n", service_name(opt.svc));
        config_free(cfg);
        return 2;
    }
    int rc = master_run(&opt, cfg);
    return rc;
}

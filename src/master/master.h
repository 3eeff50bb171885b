/* master - the supervising process of one service.
 *
 * Binds the listening socket, drops privileges, starts one event-driven
 * worker per core, replaces workers that die (LOG-E19), and turns signals
 * into actions: SIGTERM/SIGINT = graceful stop (workers finish what is in
 * flight), SIGHUP = re-read and validate the configuration, then replace
 * the workers by a new generation (the old one finishes its sessions).
 * It never touches client bytes.
 */
#ifndef SEKISHO_MASTER_H
#define SEKISHO_MASTER_H

#include <stdbool.h>

#include "core/config.h"

struct master_options {
    enum service svc;
    const char *ini_path;
    int port_override; /* -P, 0 = none */
    bool daemon;
    bool quiet;
    bool verbose;
    const char *argv_text; /* for the START line */
    const char *pidfile;   /* --pidfile, NULL = none */
};

/* master_service_built - this binary implements svc (HTTP and SMTP today). */
bool master_service_built(enum service svc);

/* master_run - run the service until stopped; returns the exit status. */
int master_run(const struct master_options *opt, struct config *cfg);

#endif

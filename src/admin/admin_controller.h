/* admin_controller - the privileged half of sekisho-admin
 * (docs/internals/admin.md): carries out the web process's requests
 * (proto/admin_ctl), each a fixed argv or a write of one fixed file. */
#ifndef SEKISHO_ADMIN_ADMIN_CONTROLLER_H
#define SEKISHO_ADMIN_ADMIN_CONTROLLER_H

#include <stdbool.h>
#include <sys/types.h>

struct admin_controller {
    int fd;        /* the channel to the web process */
    uid_t run_uid; /* run_user: owner of files the web process must read */
    gid_t run_gid;
};

/* admin_controller_serve - handle one datagram from the channel (called
 * when it is readable). false when the web process has gone (EOF). */
bool admin_controller_serve(const struct admin_controller *c);

#endif

/* admin_validate - is this the text of a good <file> (proto/admin_ctl's
 * file ids)? The same loaders the services use: a file the console
 * accepts is a file the service accepts. Both the web process (to show
 * the reason beside the form) and the controller (which writes nothing
 * it did not check itself) call it. */
#ifndef SEKISHO_ADMIN_ADMIN_VALIDATE_H
#define SEKISHO_ADMIN_ADMIN_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/admin_ctl.h"

/* Largest file the console writes. */
#define ADMIN_FILE_MAX (1024u * 1024)

/* admin_validate_file - true when text[0..len) is a valid file of that
 * kind; otherwise false with "file:line: reason" lines in err (NUL-
 * terminated, cut to errcap). ini_path names the file in messages and
 * gives the prefix for relative paths. */
bool admin_validate_file(enum admin_ctl_file file, const char *ini_path, const char *text,
                         size_t len, char *err, size_t errcap);

/* admin_service_port - the port service svc (SVC_HTTP..SVC_FTP) listens
 * on as the loader reads ini_path now (an svcport with an address: its
 * port); 0 when the file cannot be loaded. The NAT page shows it and the
 * controller redirects to it. */
unsigned admin_service_port(const char *ini_path, int svc);

#endif

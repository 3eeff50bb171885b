/* pidfile - the file an rc script finds a running master by.
 *
 * Written by a master (the proxies', the console's controller; as root, before it drops privileges)
 * into the installation's run/ directory, so two installations on one host never look at each
 * other's processes. The master cannot remove it after the privilege drop; the rc script does on
 * stop, and checks a pid it reads against the process's command line, so a stale file is harmless.
 */
#ifndef SEKISHO_LIB_PIDFILE_H
#define SEKISHO_LIB_PIDFILE_H

#include <sys/types.h>

/* pidfile_write - "<pid>\n" into path, replaced atomically (written next
 * to it, then renamed), mode 0644. 0, or -1 with errno. */
int pidfile_write(const char *path, pid_t pid);

#endif

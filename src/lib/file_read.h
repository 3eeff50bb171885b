/* file_read - a small configuration file, whole, into memory.
 *
 * The loaders of hosts.allow and its list files, and of the spam rule
 * files, read a whole file once at start and on SIGHUP and parse it from
 * memory; the size bound is theirs (a file is refused, not truncated).
 */
#ifndef SEKISHO_LIB_FILE_READ_H
#define SEKISHO_LIB_FILE_READ_H

#include <stddef.h>

/* file_read_all - the whole regular file at path, NUL-terminated (the NUL
 * not counted in *len), at most max bytes; the caller frees it. On error
 * NULL with a message in err[errcap] ("No such file or directory", "not a
 * regular file", "larger than N bytes"); errno is ENOENT only when the
 * file does not exist. */
char *file_read_all(const char *path, size_t max, size_t *len, char *err, size_t errcap);

#endif

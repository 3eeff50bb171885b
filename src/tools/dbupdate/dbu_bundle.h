/* dbu_bundle - import an offline definitions bundle (KB-7) into staging.
 *
 * A bundle is a tar archive, plain or gzip-compressed, of database files
 * (what `tar -czf bundle.tar.gz -C databases .` makes on a gateway that
 * has Internet access, or ClamAV's CVD files from any source). Every
 * entry must be a regular file whose name is one database file name
 * (proto/db_bundle); anything else - a link, a device, a path with a
 * directory or "..", a file that is not a database - fails the whole
 * import, before databases/ is touched. Each file is written to tmp and
 * renamed into staging; a file identical to the one in service does not
 * count as new. X.cvd replaces X.cld and the other way round, as
 * libfreshclam does. No network is used.
 */
#ifndef SEKISHO_TOOLS_DBU_BUNDLE_H
#define SEKISHO_TOOLS_DBU_BUNDLE_H

#include <stddef.h>

#include "tools/dbupdate/dbupdate.h"

/* Limits: one file, the whole bundle, the entries. */
#define DBU_BUNDLE_FILE_MAX    (1024ull * 1024 * 1024)
#define DBU_BUNDLE_TOTAL_MAX   (4096ull * 1024 * 1024)
#define DBU_BUNDLE_ENTRIES_MAX 256

/* dbu_bundle_import - 0 with the names of the files that changed in
 * changed[0..cap) (", "-separated; "" when every file was already in
 * service); -1 with a reason. */
int dbu_bundle_import(const struct dbu_ctx *ctx, char *changed, size_t cap, char *err,
                      size_t errcap);

#endif

/* dbu_stage - the staging directory and the switch of databases/.
 *
 * The next set of definitions is built in "<databases>.staging", never in
 * databases/ itself: a failed or half-finished download, a bundle that
 * does not load, a signal in the middle, all leave databases/ as it was.
 * The staging directory starts as a copy of databases/ made of hard links
 * (libfreshclam and the bundle import replace files by rename, never
 * write into one, so the links are safe and cost no disk space), except
 * freshclam.dat, which libfreshclam rewrites in place and is copied.
 *
 * The switch is one renameat2(RENAME_EXCHANGE) of staging and databases/:
 * sekisho-scand, whichever moment it reads the directory, sees the whole
 * old set or the whole new one. The old set stays as
 * "<databases>.previous" until the next update, which also puts it back
 * if scand cannot load the new one.
 */
#ifndef SEKISHO_TOOLS_DBU_STAGE_H
#define SEKISHO_TOOLS_DBU_STAGE_H

#include <stddef.h>

#include "tools/dbupdate/dbupdate.h"

/* dbu_tree_remove - remove path and everything below it; a path that does
 * not exist is fine. -1 with errno. */
int dbu_tree_remove(const char *path);

/* dbu_copy_file - copy src to dst (created 0644, must not exist), keeping
 * the modification time (libfreshclam's If-Modified-Since for custom
 * databases compares with it). -1 with errno. */
int dbu_copy_file(const char *src, const char *dst);

/* dbu_stage_create - remove what an interrupted update left, then make
 * staging (a linked copy of databases/) and tmp. -1 with a reason. */
int dbu_stage_create(const struct dbu_ctx *ctx, char *err, size_t errcap);

/* dbu_stage_discard - remove staging and tmp. */
void dbu_stage_discard(const struct dbu_ctx *ctx);

/* dbu_stage_switch - make staging the databases/ in service and keep the
 * old set as previous. -1 with a reason (databases/ unchanged then). */
int dbu_stage_switch(const struct dbu_ctx *ctx, char *err, size_t errcap);

/* dbu_stage_switch_back - put previous back in service (after scand
 * refused the new set); the refused set is removed. -1 with a reason. */
int dbu_stage_switch_back(const struct dbu_ctx *ctx, char *err, size_t errcap);

#endif

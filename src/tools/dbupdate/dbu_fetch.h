/* dbu_fetch - download new definitions into the staging directory with
 * libfreshclam (ClamAV's own update library).
 *
 * Sources: the official databases of dbupdate.conf's databases= (CVD,
 * then CLD by cdiff increments, digital signatures verified by
 * libfreshclam) from UPDATEURL (a private mirror: no DNS check, versions
 * read from the CVD headers over HTTP) or, when none is set, from
 * ClamAV's mirror after its DNS version check; then each custom_url (a
 * database file over http, https or file://, fetched when newer by
 * If-Modified-Since). Proxies: dbupdate.conf's use_proxy settings, else
 * sekisho.ini's orspservice_http_proxy list, tried in order while the
 * failure is one of connecting or fetching.
 *
 * libfreshclam's own detailed log goes to log/freshclam.log; when it
 * fails, the reason given is its last ERROR line there (a proxy's 407, a
 * refused connection, a bad signature), so the administrator reads the
 * cause, not a code.
 */
#ifndef SEKISHO_TOOLS_DBU_FETCH_H
#define SEKISHO_TOOLS_DBU_FETCH_H

#include <stddef.h>

#include "tools/dbupdate/dbupdate.h"

typedef void dbu_stage_fn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* dbu_fetch - 0 with the names of the databases that changed in
 * updated[0..cap) (", "-separated, "" when nothing did); -1 with a
 * reason. stage() is told what is being fetched. */
int dbu_fetch(const struct dbu_ctx *ctx, dbu_stage_fn *stage, char *updated, size_t cap, char *err,
              size_t errcap);

#endif

/* template - notification and detection templates loaded from conf/.
 *
 * Loads one template file (template_http.html, template_smtp.txt ...,
 * spec TPL-1), refuses it when it is missing, larger than 9000 bytes or
 * not valid UTF-8 (CFG-4) with a `file:line: reason` diagnostic, and keeps
 * its text for rendering. Files are read once, at start-up or reload
 * (TPL-1: edits take effect after a restart), never on the event loop.
 *
 * A struct template owns its path and a copy of the text; it is immutable
 * after loading, so one can be shared read-only by every session of a
 * config snapshot. Rendering itself is proto/template_parse's; choosing a
 * template and sending the result belong to the services.
 */
#ifndef SEKISHO_CORE_TEMPLATE_H
#define SEKISHO_CORE_TEMPLATE_H

#include <stdio.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/template_parse.h"

/* Directory searched when template_load gets a NULL dir. */
#define TEMPLATE_DEFAULT_DIR "conf"

struct template;

/* template_load - read dir/file (file alone when it is an absolute path;
 * dir NULL means TEMPLATE_DEFAULT_DIR). A leading UTF-8 byte-order mark is
 * dropped after validation (editors add one; it would hide a mail
 * template's first header line). Files named *.html or *.htm render in
 * HTML mode, others in MAIL mode.
 *
 * Returns a new template, or NULL after printing one line to diag (when
 * diag is not NULL): `path: cannot open: <errno text>`, `path: not a
 * regular file`, `path: template larger than 9000 bytes (N bytes)` or
 * `path:line: <reason> at byte N (column C)`. Free with template_free. */
struct template *template_load(const char *dir, const char *file, FILE *diag);

/* template_text - the template's bytes (NUL-terminated as well; valid
 * until template_free). */
struct str template_text(const struct template *t);
/* template_mode - HTML for .html/.htm files, MAIL otherwise. */
enum template_parse_mode template_mode(const struct template *t);
/* template_path - the path the template was read from. */
const char *template_path(const struct template *t);

/* template_render - template_parse_render of the text in the template's
 * mode: DONE, or TOO_LONG with out unchanged. */
enum template_parse_result template_render(const struct template *t,
                                           const struct template_parse_var *vars, size_t nvars,
                                           struct buf *out);

void template_free(struct template *t);

#endif

/* ini_edit - change values in the text of sekisho.ini, keeping the rest.
 *
 * What it does: applies a list of changes (set a key of a section to a
 * value, or remove it) to an ini text and writes the new text, leaving
 * every other byte as it was: comments, blank lines, unknown sections and
 * keys, the order of lines, the blanks around '=' and after the value of
 * a rewritten line, LF or CRLF line ends, a UTF-8 byte order mark, and
 * lines proto/ini_parse calls invalid or too long. The text is read with
 * proto/ini_parse, so "which line is the entry of which section" is the
 * loader's answer (core/config), never a second guess:
 *   - every entry of the section whose key matches (a file may repeat a
 *     key and the loader keeps the last one, so all are rewritten; the
 *     file's spelling of the key, an alias for instance, is kept) gets
 *     the new value; with value NULL those lines are removed, line ends
 *     included;
 *   - a key the section lacks is inserted as "key=value" right after the
 *     last entry of the section's last block (after its header when it
 *     has none), so before the blank and comment lines that end it; two
 *     keys inserted at one place come in the order of the changes;
 *   - a section the file lacks is appended as "\n[section]\nkey=value\n"
 *     (one header for all its keys, in the order of the changes; no blank
 *     line first in an empty file); removing a key that is not there
 *     changes nothing.
 * Section names compare ASCII case-insensitively; keys through the
 * caller's ini_same_key_fn (alias-aware: core/config knows the aliases),
 * ASCII case-insensitively when it is NULL. Entries that precede every
 * header or follow an invalid one belong to no section and never match.
 * A new line gets the line end of the file (that of its first line; LF
 * when it has none), and a last line without one gets one before
 * anything is added after it.
 *
 * Values are written so that ini_parse reads back exactly the value given:
 * in double quotes when it starts or ends with a blank or starts with '"'
 * (ini_parse has no escapes; it strips one pair of outer quotes), as they
 * are otherwise. Refused, with a one-line reason and nothing written: a
 * value holding a control byte other than TAB (CR, LF, NUL, DEL ...), a
 * line that would be longer than INI_LINE_MAX, a section or key that is
 * empty or not made of [A-Za-z0-9_.-], the same section and key twice in
 * one list, more than INI_EDIT_MAX changes.
 *
 * What it owns: nothing after the call. out gets heap storage of exactly
 * the new text's size (lib/buf buf_alloc_storage; the caller releases it
 * with buf_fini). What it does not do: no I/O, no globals, no checking of
 * what a value means (the caller validates it with core/config before
 * writing the file).
 */
#ifndef SEKISHO_PROTO_INI_EDIT_H
#define SEKISHO_PROTO_INI_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/str.h"

#define INI_EDIT_MAX     512 /* changes in one call */
#define INI_EDIT_ERR_MAX 160 /* every reason fits (a capacity for err) */

struct ini_change {
    const char *section; /* without brackets, e.g. "http" */
    const char *key;
    const char *value; /* NUL-terminated; NULL: remove the key */
};

/* ini_same_key_fn - true when file_key (as written in the file) names the
 * same setting as key (as given in a change). */
typedef bool ini_same_key_fn(struct str file_key, const char *key, void *arg);

/* ini_edit_apply - apply ch[0..n) to text[0..len) (any bytes, need not be
 * NUL-terminated) and put the new text into out, which must hold no owned
 * storage (a zeroed struct buf, or one after buf_fini); its data is not
 * NUL-terminated. true on success; false with a one-line reason in err
 * (naming the change by section and key, never quoting a value: a value
 * may be a password) and out empty without storage, also when memory runs
 * out. n 0 copies the text. */
bool ini_edit_apply(const char *text, size_t len, const struct ini_change *ch, size_t n,
                    ini_same_key_fn *same, void *arg, struct buf *out, char *err, size_t errlen);

#endif

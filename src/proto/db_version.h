/* db_version - the one line that describes a definitions database.
 *
 * What it does: formats a struct db_version_entry (a database file of the
 * definitions directory: its name, the version and signature count of its
 * CVD/CLD/CUD header or the signature lines of a text database, its build
 * time) as the line that `make show-dbversion` (dbupdate --show-version),
 * `sekisho-scan --version` and sekisho-scand's info log all print, so the
 * three agree byte for byte:
 *   "daily.cvd version=27463 signatures=2076543 built=2026-12-06T08:22:00Z"
 *   "custom.ndb version=custom signatures=12 built=2026-12-07T10:30:00Z"
 * and a unix time as that ISO 8601 UTC text.
 *
 * What it owns: nothing; callers own the entries and the output arrays.
 *
 * What it does not do: no I/O (clam/clam_db reads the directory and the
 * headers), no time zones (every time is UTC), no allocation, no globals.
 */
#ifndef SEKISHO_PROTO_DB_VERSION_H
#define SEKISHO_PROTO_DB_VERSION_H

#include <stddef.h>
#include <stdint.h>

#define DB_VERSION_NAME_MAX    64 /* longest database file name reported */
#define DB_VERSION_ENTRIES_MAX 64 /* database files reported per directory */
/* Room for any formatted line (name, the fields at their widest, the
 * terminator) and any formatted time. */
#define DB_VERSION_LINE_MAX 160
#define DB_VERSION_TIME_MAX 24

struct db_version_entry {
    char name[DB_VERSION_NAME_MAX + 1]; /* file name, e.g. daily.cvd */
    uint32_t version;    /* CVD/CLD/CUD header version; 0 = not an official database */
    uint64_t signatures; /* header's count, or signature lines of a text database */
    int64_t built;       /* CVD header's build time (unix s), else the file's mtime */
};

/* db_version_format - the line for e (no newline) into out[cap], always
 * NUL-terminated when cap > 0. Returns the length of the whole line, as
 * snprintf does: a result >= cap means it was cut. Control characters in
 * the name are shown as '?', so a name can never start a line of its own. */
size_t db_version_format(const struct db_version_entry *e, char *out, size_t cap);

/* db_version_time_format - unix time t as "YYYY-MM-DDTHH:MM:SSZ" (UTC);
 * "unknown" for a time outside the years 0000-9999. Same return
 * convention as db_version_format. */
size_t db_version_time_format(int64_t t, char *out, size_t cap);

#endif

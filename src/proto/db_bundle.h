/* db_bundle - the tar headers of an offline definitions bundle (KB-7).
 *
 * What it does: decodes one 512-byte tar header block of the bundle that
 * `dbupdate <bundle.tar[.gz]>` imports (a tarball of database files made
 * with any common tar: POSIX ustar, GNU tar's default "gnu" format, old
 * v7), and gives the database file name an entry may be installed under.
 * Only plain files and directories are accepted: a link, device, FIFO or
 * an extension header (GNU long names, pax headers) is refused by name,
 * because a bundle is untrusted input about to land in databases/ and
 * none of those can be needed to carry database files (whose names are at
 * most 64 bytes, see dbu_db_file_name_ok). A regular-file entry whose
 * name ends in '/' is a directory, as GNU tar reads it.
 *
 * The caller walks the archive: header, then for DB_TAR_FILE the content
 * (size bytes, padded with zeros to a multiple of 512), and so on until
 * DB_TAR_END (tar writes two zero blocks; one is enough to stop).
 *
 * What it owns: nothing but the caller's struct. What it does not do: no
 * I/O, no allocation, no decompression (gzip is the caller's), no content
 * checks (verifying the databases is the test engine's job).
 */
#ifndef SEKISHO_PROTO_DB_BUNDLE_H
#define SEKISHO_PROTO_DB_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#define DB_BUNDLE_BLOCK 512

enum db_tar_kind { DB_TAR_FILE, DB_TAR_DIR, DB_TAR_END, DB_TAR_BAD };

struct db_tar_entry {
    enum db_tar_kind kind;
    char name[101 + 155 + 1]; /* ustar prefix "/" name, NUL-terminated */
    uint64_t size;            /* DB_TAR_FILE: bytes of content that follow (padded to 512) */
};

/* Parse one 512-byte header block. DB_TAR_END for an all-zero block; DB_TAR_BAD with
 * a reason for: bad checksum, non-octal/oversized numeric fields, any type other than
 * regular file ('0' or NUL) and directory ('5') - symlinks, hard links, devices, FIFOs,
 * GNU long names ('L'), pax headers ('x','g') are refused by name in the reason. Accepts
 * ustar ("ustar\0" "00") and old GNU ("ustar  \0") magic and v7 (no magic). Size fields
 * in octal or GNU base-256.
 * Details: the checksum is accepted computed over unsigned or signed bytes
 * (both exist in the wild); mode, uid, gid, size, mtime and checksum must
 * be octal digits with optional leading blanks, ended by NUL or blanks
 * (or filling the field), or base-256 (not for mode and checksum; a
 * negative size is refused); a size above INT64_MAX is refused. Also
 * refused: any other magic, an empty name, a control byte in the name, a
 * directory with a non-zero size. e->size is 0 for directories. */
enum db_tar_kind db_tar_header_parse(const uint8_t block[DB_BUNDLE_BLOCK], struct db_tar_entry *e,
                                     char *err, size_t errcap);

/* The database file name of an entry: strips a leading "./" (any number), refuses "..",
 * absolute names, more than one path component after stripping, and names failing
 * dbu_db_file_name_ok. Returns a pointer into e->name or NULL with a reason. Directory
 * entries "." and "./" are fine (the caller skips directories).
 * For a DB_TAR_DIR entry the result is "" for "." and "./" (any number of
 * "./"), and every other directory is refused: files in it would be
 * refused anyway, and "subdirectory" is the clearer reason for a bundle
 * made with `tar cf b.tar databases/`. */
const char *db_tar_file_name(const struct db_tar_entry *e, char *err, size_t errcap);

#endif

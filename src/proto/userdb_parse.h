/* userdb_parse - the text of conf/pam/userdb.txt (AUTH-2, AUTH-3, C-46, G-06).
 *
 * What it does: reads the pam_userdb / `db_load -T` text the administrator
 * edits and `create_userdb out.db < userdb.txt` turns into the user
 * database: alternating lines, a key (a user name) then its password. It
 * yields one record per pair with the line number of the key, and
 * classifies the key: a plain user name (HTTP and SMTP authentication), or
 * a POP/FTP entry, "user@server" / "user#server" (that user on that
 * server) or "@server" / "#server" (every user of that server), whose
 * password line may be empty (AUTH-3: the POP/FTP services use only the
 * name). For POP/FTP entries it writes the canonical key the database is
 * keyed by, "user@server" with the server lower-cased, and
 * userdb_key_for() forms the same key from a USER command's parts, so the
 * later lookup and this parser cannot disagree.
 *
 * Whole buffer, not resumable: the file is read once, whole, at start (or
 * by create_userdb), bounded by USERDB_FILE_MAX; a bad file is refused as
 * a whole ("file:line: reason"), so there is nothing to resume and no
 * partial state worth keeping between reads.
 *
 * Strict on purpose: a file that db_load would read differently from the
 * administrator is refused rather than repaired. A blank line where a key
 * is expected would pair every following password with the wrong name (and
 * make passwords user names), so it is an error, not a separator.
 *
 * What it owns: nothing but the canonical key inside the caller's struct
 * userdb_record. Every other view points into the caller's text.
 *
 * What it does not do: no I/O, no allocation, no database: duplicate keys
 * (also "a#Pop" against "a@pop", which have one canonical key) are for the
 * builder to refuse when it puts the records, and the POP/FTP restriction
 * lookup comes with the database (issue 13).
 */
#ifndef SEKISHO_PROTO_USERDB_PARSE_H
#define SEKISHO_PROTO_USERDB_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* A key (user name or POP/FTP entry) is 1..255 bytes, a password 0..255,
 * line end excluded (pam_userdb's and most PAM modules' name limit). */
#define USERDB_KEY_MAX      255
#define USERDB_PASSWORD_MAX 255
/* Records in one file. */
#define USERDB_RECORDS_MAX 100000u
/* The largest file: every file within the limits above fits (each record
 * is at most two 255-byte lines with CRLF), so a larger one must break one
 * and is refused before anything is read (51,400,000 bytes). */
#define USERDB_FILE_MAX                                                                            \
    ((size_t)USERDB_RECORDS_MAX * (USERDB_KEY_MAX + 2 + USERDB_PASSWORD_MAX + 2))

enum userdb_key_kind {
    USERDB_KEY_PLAIN = 0,      /* "alice": authentication (HTTP, SMTP) */
    USERDB_KEY_USER_AT_SERVER, /* "alice@pop.example" or "alice#pop.example" */
    USERDB_KEY_ANY_AT_SERVER,  /* "@pop.example" or "#pop.example" */
};
const char *userdb_key_kind_name(enum userdb_key_kind k);

enum userdb_result {
    USERDB_END = 0, /* no more records: the whole file was good */
    USERDB_RECORD,  /* *rec holds the next record */
    USERDB_ERROR,   /* *err says where and why; the file must be refused */
};

struct userdb_record {
    unsigned line; /* 1-based line of the key */
    enum userdb_key_kind kind;
    struct str key;      /* as written */
    struct str password; /* as written; empty only for POP/FTP entries */
    struct str user;     /* PLAIN: the key; USER_AT_SERVER: before the separator; ANY: empty */
    struct str server;   /* as written (an IPv6 literal without its brackets); PLAIN: empty */
    char canon[USERDB_KEY_MAX + 1]; /* the database key, NUL-terminated: PLAIN the key itself,
                                     * otherwise userdb_key_for(user, server) */
    size_t canon_len;
};

struct userdb_error {
    unsigned line;      /* 1-based line of the key of the bad record; 0: the file as a whole */
    const char *reason; /* static text, says "password line" when that line is at fault */
};

/* The iterator. Initialise with userdb_parser_init; the fields are private. */
struct userdb_parser {
    const char *text;
    size_t len;
    size_t pos;    /* start of the next key line */
    unsigned line; /* its line number */
    unsigned records;
    const char *failed; /* the error once one was returned: every later call repeats it */
    unsigned failed_line;
};

/* userdb_parser_init - iterate over text[0..len); NUL bytes are errors,
 * not terminators. */
void userdb_parser_init(struct userdb_parser *p, const char *text, size_t len);

/* userdb_next - the next record, END, or ERROR.
 *
 * Lines end in LF or CRLF; the last line needs no line end. Errors (err->line
 * is the key's line): a file over USERDB_FILE_MAX (line 0); a blank key
 * line; a key without a password line (a key on the last line: an empty
 * password is an empty line, "@pop.example\n\n"); a key over
 * USERDB_KEY_MAX or a password over USERDB_PASSWORD_MAX; a control byte
 * (HT, a lone CR and DEL included) or NUL in either line; a blank in a key
 * (it would be two words in USER, and an invisible trailing blank is a
 * typing mistake); an empty password for a plain user (it would let anyone
 * in with an empty password); a POP/FTP key whose server part is not what
 * proto/user_target accepts after USER name@host, or that names a port
 * (entries name a server; userdb_key_for has no port); more than
 * USERDB_RECORDS_MAX records. ERROR is final: every later call returns the
 * same error. Bounded: every call either consumes at least one line or
 * returns END or ERROR. */
enum userdb_result userdb_next(struct userdb_parser *p, struct userdb_record *rec,
                               struct userdb_error *err);

/* userdb_key_for - the canonical database key of a POP/FTP entry:
 * "user@server" (user empty: "@server", every user of that server), the
 * user name as given (user names are case-sensitive upstream), the server
 * lower-cased (host names are not, RFC 4343); an IPv6 address (with or
 * without brackets) is written "[addr]" in its RFC 5952 form, so
 * "[0::1]" and "[::1]" are one key. user is what USER sent before the
 * last '@' or '#' (proto/user_target's name), server its host. Returns the
 * key's length, out NUL-terminated; 0 when user holds a control byte or a
 * blank, server is not a host name or address as user_target accepts, or
 * the key does not fit in cap or exceeds USERDB_KEY_MAX (no such key can be
 * in the database). */
size_t userdb_key_for(struct str user, struct str server, char *out, size_t cap);

#endif

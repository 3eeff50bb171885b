/* config - load and validate sekisho.ini into a read-only snapshot.
 *
 * What it does: reads the ini file (through proto/ini_parse), checks every
 * section and every key of every service against the table in
 * config_keys.def, and builds the view one service sees: built-in defaults,
 * then [common], then the service's own group, later ones overriding
 * (G-05). Problems are reported on a diagnostics stream as "file:line:
 * reason" (or "file: reason"): unknown sections and keys, keys outside any
 * section and duplicate keys (the last value wins) are warnings; anything
 * else is an error, and every error of the file is reported before
 * config_load gives up and returns NULL (HAProxy style).
 *
 * Relative paths (tmpdir, quarantine_dir, hosts_allow, scand_socket,
 * database_dir, template_dir, the log files) are resolved against the
 * prefix, the parent of the directory holding the ini file
 * (/opt/sekisho/conf/sekisho.ini -> /opt/sekisho), made absolute, so the
 * result does not depend on the working directory. A log destination that
 * starts with '|' is a command and is kept as written.
 *
 * What it owns: the struct config and every string and list in it; the
 * snapshot is never modified after config_load returns, so it may be
 * shared between threads. What it does not do: it does not create
 * directories, open log files, resolve host names or look at the network;
 * workers = 0 and scand_threads = 0 are left for the caller to turn into a
 * CPU count, and an empty product_name is left for the caller to compute
 * (Sekisho/sekisho_<svc>/<version>/<hostname>, §0.1).
 */
#ifndef SEKISHO_CORE_CONFIG_H
#define SEKISHO_CORE_CONFIG_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/str.h"

enum service {
    SVC_HTTP = 0,
    SVC_SMTP,
    SVC_POP,
    SVC_FTP,
    SVC_COUNT,
    SVC_COMMON = SVC_COUNT,
};

/* service_name - "http", "smtp", "pop", "ftp", "common" (the ini group). */
const char *service_name(enum service svc);

/* Section bits of the key table: which ini groups a key may appear in. */
#define CONFIG_SEC_HTTP     (1u << SVC_HTTP)
#define CONFIG_SEC_SMTP     (1u << SVC_SMTP)
#define CONFIG_SEC_POP      (1u << SVC_POP)
#define CONFIG_SEC_FTP      (1u << SVC_FTP)
#define CONFIG_SEC_COMMON   (1u << SVC_COMMON)
#define CONFIG_SEC_MAIL     (CONFIG_SEC_SMTP | CONFIG_SEC_POP)
#define CONFIG_SEC_SERVICES (CONFIG_SEC_HTTP | CONFIG_SEC_SMTP | CONFIG_SEC_POP | CONFIG_SEC_FTP)
#define CONFIG_SEC_ALL      (CONFIG_SEC_SERVICES | CONFIG_SEC_COMMON)

/* Limits of the loader (named so that tests and docs can quote them). */
#define CONFIG_FILE_MAX      (1024 * 1024) /* a real ini is a few KB */
#define CONFIG_SVCPORT_MAX   96            /* longest svcport value */
#define CONFIG_VALUE_LOG_MAX 64            /* value bytes quoted in messages */
#define CONFIG_FORMAT_MAX    4608          /* a value in ini syntax, NUL included */

/* Enums of ENUM keys; the ini spelling of each value is in config_keys.def. */
enum config_action {
    CONFIG_ACTION_PASS = 0,
    CONFIG_ACTION_DELETE,
    CONFIG_ACTION_DENY,
    CONFIG_ACTION_BLACKHOLE,
    CONFIG_ACTION_SENDBACK,
};
enum config_spam_action {
    CONFIG_SPAM_ACTION_PASS = 0,
    CONFIG_SPAM_ACTION_CHANGE_SUBJECT,
    CONFIG_SPAM_ACTION_BLACKHOLE,
};
enum config_scan_error_action {
    CONFIG_SCAN_ERROR_ACTION_TEMPFAIL = 0,
    CONFIG_SCAN_ERROR_ACTION_PASS,
};
/* The ini spelling ("deny", "change_subject", ...); "?" for a bad value. */
const char *config_action_name(enum config_action v);
const char *config_spam_action_name(enum config_spam_action v);
const char *config_scan_error_action_name(enum config_scan_error_action v);

/* A parsed svcport (CFG-2): one listening endpoint. */
struct svcport {
    char text[CONFIG_SVCPORT_MAX + 1]; /* as written, for logs */
    char addr[INET6_ADDRSTRLEN];       /* numeric address, "" = any */
    char iface[IF_NAMESIZE];           /* interface, "" = any */
    unsigned port;                     /* 1-65535 */
    int family;                        /* AF_INET, AF_INET6, or AF_UNSPEC when addr is "" */
};

/* A LIST or RISKWARE value, pre-split. text is the value as written
 * (trimmed); items are its non-empty entries with blanks around them
 * removed, each also NUL-terminated (items[i].ptr[items[i].len] == 0).
 * An empty value gives count 0. */
struct config_list {
    char *text;
    size_t count;
    struct str *items;
};

/* Storage of each key type (see config_keys.def for the syntax). */
#define CONFIG_FIELD_BOOL(name, arg)     bool name;
#define CONFIG_FIELD_UINT(name, arg)     unsigned name;
#define CONFIG_FIELD_U64(name, arg)      uint64_t name;
#define CONFIG_FIELD_PORT(name, arg)     unsigned name;
#define CONFIG_FIELD_ENUM(name, arg)     arg name;
#define CONFIG_FIELD_STRING(name, arg)   char *name;
#define CONFIG_FIELD_ASCII(name, arg)    char *name;
#define CONFIG_FIELD_UTF8(name, arg)     char *name;
#define CONFIG_FIELD_LIST(name, arg)     struct config_list name;
#define CONFIG_FIELD_RISKWARE(name, arg) struct config_list name;
#define CONFIG_FIELD_PATH(name, arg)     char *name;
#define CONFIG_FIELD_LOGDEST(name, arg)  char *name;
#define CONFIG_FIELD_SVCPORT(name, arg)  struct svcport name;
#define CONFIG_FIELD_HOST(name, arg)     char *name;
#define CONFIG_FIELD_URL(name, arg)      char *name;

/* One snapshot. String fields are never NULL ("" when empty). */
struct config {
    enum service service; /* the view: SVC_HTTP..SVC_FTP or SVC_COMMON */
    char *ini_path;       /* as given to config_load (or the text's name) */
    char *prefix;         /* absolute; base of relative paths */
#define ENUMV(type)                                            enum config_##type
#define CONFIG_KEY(name, sections, built, type, arg, def, doc) CONFIG_FIELD_##type(name, arg)
#include "core/config_keys.def"
#undef ENUMV
};

/* config_load - read, validate and return the view of service svc.
 * svc = SVC_COMMON gives the defaults overridden by [common] only; keys
 * that are not valid in [common] are then zero / empty. Warnings and errors
 * go to diag (NULL = silent). Returns NULL when the file cannot be read,
 * is larger than CONFIG_FILE_MAX, or has any error (in any section, not
 * only svc's). The caller frees the result with config_free. */
struct config *config_load(const char *ini_path, enum service svc, FILE *diag);

/* config_load_text - the same on text[0..len) (any bytes); name is used in
 * messages and, as if it were the file's path, to derive the prefix. */
struct config *config_load_text(const char *text, size_t len, const char *name, enum service svc,
                                FILE *diag);

/* CONFIG_LOAD_ACCEPT_NOT_BUILT - accept non-default values of keys the
 * code does not act on (the unit tests of the value parsers); a service
 * never loads with it. */
#define CONFIG_LOAD_ACCEPT_NOT_BUILT 1u
struct config *config_load_text_flags(const char *text, size_t len, const char *name,
                                      enum service svc, FILE *diag, unsigned flags);

void config_free(struct config *cfg);

/* ---- introspection (tests, documentation, web console) ---------------- */

enum config_type {
    CONFIG_TYPE_BOOL = 0,
    CONFIG_TYPE_UINT,
    CONFIG_TYPE_U64,
    CONFIG_TYPE_PORT,
    CONFIG_TYPE_ENUM,
    CONFIG_TYPE_STRING,
    CONFIG_TYPE_ASCII,
    CONFIG_TYPE_UTF8,
    CONFIG_TYPE_LIST,
    CONFIG_TYPE_RISKWARE,
    CONFIG_TYPE_PATH,
    CONFIG_TYPE_LOGDEST,
    CONFIG_TYPE_SVCPORT,
    CONFIG_TYPE_HOST,
    CONFIG_TYPE_URL,
};
const char *config_type_name(enum config_type t); /* "bool", "uint", ... */

struct config_key {
    const char *name;
    unsigned sections; /* CONFIG_SEC_*: where the key may appear */
    unsigned built;    /* CONFIG_SEC_*: where the code acts on it (config_keys.def) */
    enum config_type type;
    size_t offset;         /* of the field in struct config */
    uint64_t min, max;     /* UINT/U64: range; strings, lists, paths: max length */
    const char *enum_type; /* ENUM: "action", "spam_action", ... */
    const char *def[SVC_COUNT];
    const char *doc;
};

size_t config_key_count(void);
/* config_key_at - i-th row of the table (i < config_key_count()). */
const struct config_key *config_key_at(size_t i);
/* config_key_find - by name or alias, ASCII case-insensitive; NULL if unknown. */
const struct config_key *config_key_find(struct str name);
/* config_key_valid_in - the key may appear in ini group svc. */
bool config_key_valid_in(const struct config_key *key, enum service svc);
/* config_key_built_in - the code acts on the key in ini group svc; set
 * elsewhere to a non-default value, the loader refuses the file. */
bool config_key_built_in(const struct config_key *key, enum service svc);

/* config_enum_values - the ini spellings an ENUM key accepts in group svc,
 * in table order, into out[0..cap); returns how many there are (0 for a
 * key that is not an ENUM). */
size_t config_enum_values(const struct config_key *key, enum service svc, const char **out,
                          size_t cap);

/* config_format_value - write the key's value in cfg in ini syntax into
 * out[0..cap) (NUL-terminated). Returns false when it does not fit. */
bool config_format_value(const struct config *cfg, const struct config_key *key, char *out,
                         size_t cap);

/* config_dump - "key=value" for every key that is valid in the view's
 * section (for -v and for tests). */
void config_dump(const struct config *cfg, FILE *out);

/* config_trace_keys - when the environment names a file in
 * SEKISHO_KEY_TRACE, append "key<TAB>service<TAB>$SEKISHO_TEST_ID" for each
 * key whose value in cfg differs from its default: the test suite's record
 * of which tests set which keys (tests/check-key-coverage.py). Nothing
 * otherwise. */
void config_trace_keys(const struct config *cfg);

/* config_doc_write - the key reference of docs/man/sekisho.ini.5.md in
 * Markdown, generated from config_keys.def (dev/gen-config-doc.sh). */
void config_doc_write(FILE *out);

#endif

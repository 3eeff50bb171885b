/* scanreq - the proxy <-> sekisho-scand wire format.
 *
 * What it does: encodes and decodes the typed, versioned messages that a
 * proxy worker (or the sekisho-scan CLI) sends to the scanning daemon over
 * a UNIX stream socket, and the daemon's replies. A SCAN request names
 * the options of one scan; the spooled file itself travels alongside as a
 * descriptor (SCM_RIGHTS, attached to the request's first byte), never as
 * bytes. A RELOAD request asks the daemon to compile the definitions anew;
 * a VERSION request asks which definitions the engine in service holds.
 * Also the two pure helpers of riskware policy (SCAN-9, DET-3): matching
 * a Category.Platform.Family name against pass_riskware patterns and
 * mapping a ClamAV PUA name onto Category.Platform.Family.
 *
 * What it owns: nothing. Decoders fill caller structs (fixed arrays, NUL
 * terminated); encoders append to a caller struct buf, all or nothing.
 *
 * What it does not do: no I/O, no descriptor passing (core/scan_client and
 * scand/scand_server do that), no allocation, no globals.
 *
 * Frame (all integers big-endian), docs/internals/scand.md has the table:
 *   magic[4] "SKQ1" (request) / "SKR1" (reply), version u8, type u8,
 *   reserved u16 = 0, body_len u32, body[body_len]
 * SCAN request body: id u64, service u8, encoding u8, flags u16,
 *   timeout_ms u32, patterns_len u16, patterns, name_len u16, name
 * RELOAD and VERSION request body: id u64
 * SCAN reply body: id u64, verdict u8, reserved u8 = 0, details u16,
 *   scan_us u64, engine_id u64, name_len u16, name, error_len u16, error
 *   (engine_id: drawn at random each time scand compiles definitions, so a
 *   proxy can tell that verdicts it remembers predate the current ones)
 * RELOAD reply body: id u64, ok u8, reserved u8 = 0, reserved u16 = 0,
 *   signatures u64, error_len u16, error
 * VERSION reply body: id u64, engine_id u64, loaded_at u64 (unix s),
 *   signatures u64, libclamav_len u16, libclamav, count u16 (<= 64), then
 *   count entries of name_len u16, name (1..64 bytes), version u32,
 *   signatures u64, built i64 (unix s, two's complement)
 * Unknown versions, types, flag bits, non-zero reserved fields, strings
 * over their limits or containing NUL, and trailing bytes are INVALID.
 */
#ifndef SEKISHO_PROTO_SCANREQ_H
#define SEKISHO_PROTO_SCANREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/db_version.h"

#define SCANREQ_VERSION           3    /* 2: engine_id in SCAN replies; 3: VERSION */
#define SCANREQ_HEADER_LEN        12   /* magic + version + type + reserved + body_len */
#define SCANREQ_PATTERNS_MAX      1999 /* pass_riskware, options.tsv: max 1999 bytes */
#define SCANREQ_FILENAME_MAX      255  /* file name hint */
#define SCANREQ_NAME_MAX          255  /* detection name */
#define SCANREQ_ERROR_MAX         255  /* error text */
#define SCANREQ_RISKWARE_NAME_MAX 255  /* mapped Category.Platform.Family */
#define SCANREQ_LIBCLAMAV_MAX     31   /* libclamav's version string (cl_retver) */

/* Largest bodies and frames; a decoder rejects a body_len above these
 * before waiting for the bytes, so a peer cannot make us buffer more. */
#define SCANREQ_SCAN_BODY_MAX                                                                      \
    (8 + 1 + 1 + 2 + 4 + 2 + SCANREQ_PATTERNS_MAX + 2 + SCANREQ_FILENAME_MAX)
#define SCANREQ_REQUEST_MAX (SCANREQ_HEADER_LEN + SCANREQ_SCAN_BODY_MAX)
/* SCAN and RELOAD replies (struct scanreq_reply): the SCAN one is larger. */
#define SCANREQ_REPLY_BODY_MAX                                                                     \
    (8 + 1 + 1 + 2 + 8 + 8 + 2 + SCANREQ_NAME_MAX + 2 + SCANREQ_ERROR_MAX)
#define SCANREQ_REPLY_MAX             (SCANREQ_HEADER_LEN + SCANREQ_REPLY_BODY_MAX)
#define SCANREQ_RELOAD_REPLY_BODY_MAX (8 + 1 + 1 + 2 + 8 + 2 + SCANREQ_ERROR_MAX)
/* The VERSION reply is ten times larger than the others, and only the CLI
 * asks for it: it has its own struct and decoder, so that a SCAN reply and
 * a proxy's receive buffer stay small. */
#define SCANREQ_VERSION_REPLY_ENTRY_MAX (2 + DB_VERSION_NAME_MAX + 4 + 8 + 8)
#define SCANREQ_VERSION_REPLY_BODY_MAX                                                             \
    (8 + 8 + 8 + 8 + 2 + SCANREQ_LIBCLAMAV_MAX + 2 +                                               \
     DB_VERSION_ENTRIES_MAX * SCANREQ_VERSION_REPLY_ENTRY_MAX)
#define SCANREQ_VERSION_REPLY_MAX (SCANREQ_HEADER_LEN + SCANREQ_VERSION_REPLY_BODY_MAX)

enum scanreq_type {
    SCANREQ_T_SCAN = 0,
    SCANREQ_T_RELOAD,
    SCANREQ_T_VERSION,
};
#define SCANREQ_T_COUNT 3

enum scanreq_service {
    SCANREQ_SVC_HTTP = 0,
    SCANREQ_SVC_SMTP,
    SCANREQ_SVC_POP,
    SCANREQ_SVC_FTP,
};

enum scanreq_verdict {
    SCANREQ_CLEAN = 0,
    SCANREQ_INFECTED,
    SCANREQ_ERROR,
};

/* Request flags: the per-request scan options of options.tsv. */
#define SCANREQ_RF_RISKWARE          (1u << 0) /* riskware_check=yes */
#define SCANREQ_RF_BLOCK_ENCRYPTED   (1u << 1) /* block_encrypted=yes */
#define SCANREQ_RF_BLOCK_MAXNESTED   (1u << 2) /* block_maxnested=yes */
#define SCANREQ_RF_BLOCK_SCANTIMEOUT (1u << 3) /* block_scantimeout=yes */
#define SCANREQ_RF_MAIL              (1u << 4) /* mail mode; reserved, scand ignores it */
#define SCANREQ_RF_BLOCK_OVERSIZE    (1u << 5) /* block_oversize=yes */
#define SCANREQ_RF_ALL               0x3fu

/* Reply detail flags: the PROXY-STAT details of LOG-2 that scand decides. */
#define SCANREQ_VSD_ENCRYPTED   (1u << 0) /* encrypted archive member seen */
#define SCANREQ_VSD_MAXNESTED   (1u << 1) /* archive nesting above the maximum */
#define SCANREQ_VSD_SCANTIMEOUT (1u << 2) /* scan stopped by the time limit */
#define SCANREQ_VSD_UNDECODED   (1u << 3) /* content coding could not be undone */
#define SCANREQ_VSD_OVERSIZE    (1u << 4) /* over scand's size limits: not scanned whole */
#define SCANREQ_VSD_MAXFILES    (1u << 5) /* archive members beyond the file-count limit unscanned */
#define SCANREQ_VSD_ALL         0x3fu

/* Request encoding byte: the content codings scand undoes before scanning,
 * low nibble first (the outermost, last-applied coding), then the high
 * nibble. Values 1-4 are enum cdec_coding (lib/content_decode.h);
 * SCANREQ_ENC_UNDECODABLE says the proxy saw a coding nobody can undo
 * (unknown token, too many layers): scand blocks without scanning. */
#define SCANREQ_ENC_LAYERS      2
#define SCANREQ_ENC_CODING_MAX  4
#define SCANREQ_ENC_UNDECODABLE 0xfu

/* Detection names scand generates (DET-2 with the SEKISHO/ prefix). */
#define SCANREQ_NAME_BLOCK_ENCRYPTED   "SEKISHO/POLICY_BLOCK_ENCRYPTED"
#define SCANREQ_NAME_BLOCK_MAXNESTED   "SEKISHO/POLICY_BLOCK_MAXNESTED"
#define SCANREQ_NAME_BLOCK_SCANTIMEOUT "SEKISHO/POLICY_BLOCK_SCANTIMEOUT"
#define SCANREQ_NAME_BLOCK_ENCODING    "SEKISHO/POLICY_BLOCK_ENCODING"
#define SCANREQ_NAME_BLOCK_OVERSIZE    "SEKISHO/POLICY_BLOCK_OVERSIZE"

struct scanreq_request {
    enum scanreq_type type;
    uint64_t id;
    /* SCAN only: */
    enum scanreq_service service;
    uint32_t flags;                          /* SCANREQ_RF_* */
    uint8_t encoding;                        /* content codings, see SCANREQ_ENC_* */
    uint32_t timeout_ms;                     /* 0 = unlimited (vsd_scantimeout=0) */
    char patterns[SCANREQ_PATTERNS_MAX + 1]; /* pass_riskware, ';'-separated */
    char filename[SCANREQ_FILENAME_MAX + 1];
};

struct scanreq_reply {
    enum scanreq_type type;
    uint64_t id;
    /* SCAN: */
    enum scanreq_verdict verdict;
    uint32_t details; /* SCANREQ_VSD_* */
    uint64_t scan_us;
    uint64_t engine_id;              /* the definitions that gave the verdict */
    char name[SCANREQ_NAME_MAX + 1]; /* detection name when INFECTED */
    /* RELOAD: */
    bool reload_ok;
    uint64_t signatures; /* signatures of the engine serving after the reload */
    /* both: */
    char error[SCANREQ_ERROR_MAX + 1]; /* why, for ERROR and a failed reload */
};

/* The VERSION reply: what the engine in service was compiled from. */
struct scanreq_version {
    uint64_t id;
    uint64_t engine_id;  /* as in SCAN replies */
    uint64_t loaded_at;  /* when that engine was compiled, unix s */
    uint64_t signatures; /* what libclamav loaded, all databases together */
    char libclamav[SCANREQ_LIBCLAMAV_MAX + 1];
    size_t count; /* entries in dbs, <= DB_VERSION_ENTRIES_MAX */
    struct db_version_entry dbs[DB_VERSION_ENTRIES_MAX];
};

enum scanreq_parse {
    SCANREQ_DONE = 0, /* one message decoded; *n = bytes consumed */
    SCANREQ_AGAIN,    /* incomplete; *n = at least this many more bytes needed */
    SCANREQ_INVALID,  /* not a valid message: close the connection */
};

const char *scanreq_type_name(enum scanreq_type t);
const char *scanreq_service_name(enum scanreq_service s);
const char *scanreq_verdict_name(enum scanreq_verdict v);
const char *scanreq_parse_name(enum scanreq_parse p);

/* scanreq_encode_request - append one framed request to out.
 * Returns false, leaving out untouched, when a string is over its limit,
 * a field is out of range or the frame does not fit in buf_space(out). */
bool scanreq_encode_request(struct buf *out, const struct scanreq_request *req);
bool scanreq_encode_reply(struct buf *out, const struct scanreq_reply *rep);

/* scanreq_decode_request - decode one request from the len bytes at p.
 * DONE: *req filled, *n = bytes consumed (the frame length). AGAIN: *n =
 * the number of further bytes needed at least (0 < *n). INVALID: *n = 0.
 * Never reads past p + len. */
enum scanreq_parse scanreq_decode_request(const char *p, size_t len, struct scanreq_request *req,
                                          size_t *n);
/* scanreq_decode_reply - the same for a SCAN or RELOAD reply; a VERSION
 * reply is INVALID here (scanreq_decode_version). */
enum scanreq_parse scanreq_decode_reply(const char *p, size_t len, struct scanreq_reply *rep,
                                        size_t *n);

/* scanreq_encode_version - append one framed VERSION reply. False (out
 * untouched) when count is over DB_VERSION_ENTRIES_MAX, a name is empty or
 * over its limit, the libclamav string over its limit, or it does not fit. */
bool scanreq_encode_version(struct buf *out, const struct scanreq_version *v);
/* scanreq_decode_version - decode one VERSION reply, with the contract of
 * scanreq_decode_request; any other reply type is INVALID. */
enum scanreq_parse scanreq_decode_version(const char *p, size_t len, struct scanreq_version *v,
                                          size_t *n);

/* scanreq_encoding_valid - the encoding byte is canonical: each nibble a
 * coding or 0, a second layer only after a first, UNDECODABLE alone. */
bool scanreq_encoding_valid(unsigned enc);

/* scanreq_details_format - append the names of the set detail bits, comma
 * separated, in bit order ("VSD_ENCRYPTED,VSD_MAXNESTED"); nothing for 0.
 * Unknown bits are ignored. False (out untouched) when it does not fit. */
bool scanreq_details_format(uint32_t details, struct buf *out);

/* scanreq_riskware_match - does the riskware name Category.Platform.Family
 * match one of the ';'-separated pass_riskware patterns? A pattern has
 * three '.'-separated components; in each, '*' matches any run of
 * characters (so "*" is the whole component, "Client-*" a prefix).
 * Spaces around a pattern are ignored, empty entries match nothing.
 * Case-sensitive, like the names. A name or pattern with a component
 * count other than three never matches. */
bool scanreq_riskware_match(struct str patterns, struct str name);

/* scanreq_riskware_from_clamav - map a ClamAV PUA name
 * "PUA.<Platform>.<Category>.<Family>[-<n>][.UNOFFICIAL]" onto the
 * guide's "Category.Platform.Family" (DET-3). Platform and category are
 * translated through the tables in scanreq.c (e.g. Win -> Win32, Tool ->
 * Tool, Packer -> RiskTool); names not in a table pass through unchanged.
 * The family loses the "-<n>" signature serial; dots inside it become
 * '_', so the result always has three components. Missing components
 * become "Generic". Returns false when pua_name does not start with
 * "PUA." or the result does not fit in cap (out is then ""). */
bool scanreq_riskware_from_clamav(const char *pua_name, char *out, size_t cap);

#endif

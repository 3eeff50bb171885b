/* hosts_allow_parse - tokenizer for conf/hosts.allow, list files and patterns.
 *
 * Turns the text of a hosts.allow file (guide chapter 7.2, tcp_wrappers
 * hosts_access(5) syntax) into a stream of events: a RULE event for every
 * `<field>[, <field>...]: <pattern list>` line, then one PATTERN event per
 * pattern token of that line, and ERROR events carrying (line, reason).
 * It also tokenizes list files and ini-provided pattern lists, and
 * classifies one pattern token (hosts_allow_pattern_parse).
 *
 * The parser owns only a small scratch buffer inside struct
 * hosts_allow_parser (token views point into it and stay valid until the
 * next call). It does no I/O, allocates nothing, never reads list files
 * (core/access does) and knows nothing of matching.
 */
#ifndef SEKISHO_PROTO_HOSTS_ALLOW_PARSE_H
#define SEKISHO_PROTO_HOSTS_ALLOW_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"

/* A physical line holds at most this many bytes, not counting its "\n" or
 * "\r\n" terminator (guide 7.2: "a maximum of 2047 bytes per line"). */
#define HOSTS_ALLOW_LINE_MAX 2047
/* Longest single token (field name, pattern or list file path). */
#define HOSTS_ALLOW_TOKEN_MAX 1023
/* Longest host or domain name pattern (DNS names are at most 255 bytes). */
#define HOSTS_ALLOW_NAME_MAX 255
/* Room for an error message built by the parser. */
#define HOSTS_ALLOW_REASON_MAX 160

enum hosts_allow_field {
    HOSTS_ALLOW_HTTP_FROM = 0,
    HOSTS_ALLOW_HTTP_TO,
    HOSTS_ALLOW_HTTP_PASS_TO,
    HOSTS_ALLOW_SMTP_FROM,
    HOSTS_ALLOW_SMTP_TO,
    HOSTS_ALLOW_SMTP_RCPT,
    HOSTS_ALLOW_SMTP_LAN,
    HOSTS_ALLOW_POP_FROM,
    HOSTS_ALLOW_POP_TO,
    HOSTS_ALLOW_FTP_FROM,
    HOSTS_ALLOW_FTP_TO,
    HOSTS_ALLOW_FTP_PASS_TO,
    HOSTS_ALLOW_SPAM_RBL_PASS,
    HOSTS_ALLOW_FIELD_COUNT,
};

/* hosts_allow_field_name - "http_from" etc.; "FIELD_???" when out of range. */
const char *hosts_allow_field_name(enum hosts_allow_field f);

/* hosts_allow_field_lookup - find a field by name. Case-insensitive; runs
 * of blanks inside the name count as one '_' ("http from", "spam rbl
 * pass", the guide's prose spelling); leading and trailing blanks are
 * ignored. Returns false for an unknown name. */
bool hosts_allow_field_lookup(struct str name, enum hosts_allow_field *out);

enum hosts_allow_event {
    HOSTS_ALLOW_EV_END = 0, /* no more input */
    HOSTS_ALLOW_EV_RULE,    /* a rule starts: ev.fields, ev.line */
    HOSTS_ALLOW_EV_PATTERN, /* one pattern token of the current rule: ev.token, ev.line */
    HOSTS_ALLOW_EV_ERROR,   /* ev.line, ev.reason; the rest of that logical line is skipped */
};

const char *hosts_allow_event_name(enum hosts_allow_event e);

struct hosts_allow_ev {
    enum hosts_allow_event type;
    unsigned fields;    /* RULE: bit (1u << field) for every field named on the line */
    unsigned line;      /* 1-based physical line of the rule, pattern or error */
    struct str token;   /* PATTERN: view into the parser, valid until the next call */
    const char *reason; /* ERROR: view into the parser, valid until the next call */
};

/* The parser state. Initialise with hosts_allow_parser_init; the fields
 * are private. */
struct hosts_allow_parser {
    const char *text;
    size_t len;
    size_t pos;      /* next unread byte */
    size_t line_end; /* end of the current logical line (its final '\n' or len) */
    unsigned line;   /* physical line number at pos */
    unsigned next_line;
    bool in_list;   /* inside the pattern list of a rule */
    bool list_mode; /* list file / ini list rather than hosts.allow */
    char tok[HOSTS_ALLOW_TOKEN_MAX + 1];
    char reason[HOSTS_ALLOW_REASON_MAX];
};

/* hosts_allow_parser_init - parse a whole hosts.allow text of len bytes
 * (NUL bytes in it are errors, not terminators).
 *
 * Accepted syntax: blank lines; comment lines whose first non-blank byte
 * is '#'; rules `field[, field...]: pattern pattern,pattern ...` where
 * patterns are separated by spaces, tabs, commas or CRs; a backslash right
 * before a newline ("\\\n" or "\\\r\n") joins the next physical line to
 * this one, exactly as tcpd does (no blank is inserted). A line longer
 * than HOSTS_ALLOW_LINE_MAX is an error and its whole logical line is
 * skipped. '#' after the start of a line is an error (tcpd would take it
 * as a pattern), so is any control byte. The last line needs no newline. */
void hosts_allow_parser_init(struct hosts_allow_parser *p, const char *text, size_t len);

/* hosts_allow_list_init - tokenize a list file or an ini pattern list:
 * patterns separated by blanks, commas and newlines, comment lines as
 * above, no line length limit, no fields (so no RULE events). */
void hosts_allow_list_init(struct hosts_allow_parser *p, const char *text, size_t len);

/* hosts_allow_next - the next event. After END every call returns END.
 * Bounded: every call consumes input or returns END. */
enum hosts_allow_event hosts_allow_next(struct hosts_allow_parser *p, struct hosts_allow_ev *ev);

enum hosts_allow_pattern_kind {
    HOSTS_ALLOW_PAT_ALL = 0,     /* ALL */
    HOSTS_ALLOW_PAT_KNOWN,       /* KNOWN: address and name known */
    HOSTS_ALLOW_PAT_UNKNOWN,     /* UNKNOWN: address or name unknown */
    HOSTS_ALLOW_PAT_LOCAL,       /* LOCAL: known name without a dot */
    HOSTS_ALLOW_PAT_EXCEPT,      /* the EXCEPT operator */
    HOSTS_ALLOW_PAT_IP4,         /* a.b.c.d: ip4 */
    HOSTS_ALLOW_PAT_IP4_NET,     /* a.b. prefix, net/m.m.m.m, net/len: ip4, ip4_mask */
    HOSTS_ALLOW_PAT_IP6,         /* [v6] or bare v6: ip6 */
    HOSTS_ALLOW_PAT_IP6_NET,     /* [v6]/len: ip6 (masked), ip6_prefix */
    HOSTS_ALLOW_PAT_NAME,        /* host.domain.jp: text */
    HOSTS_ALLOW_PAT_SUFFIX,      /* .domain.jp: text (with its dot) */
    HOSTS_ALLOW_PAT_NAME_PREFIX, /* www.: text (with its dot) */
    HOSTS_ALLOW_PAT_WILDCARD,    /* contains '*' or '?': text */
    HOSTS_ALLOW_PAT_FILE,        /* /absolute/path: text */
};

const char *hosts_allow_pattern_kind_name(enum hosts_allow_pattern_kind k);

struct hosts_allow_pattern {
    enum hosts_allow_pattern_kind kind;
    uint32_t ip4;        /* IP4, IP4_NET: host byte order */
    uint32_t ip4_mask;   /* IP4_NET */
    uint8_t ip6[16];     /* IP6, IP6_NET (network order, host bits cleared) */
    unsigned ip6_prefix; /* IP6_NET: 0..128 */
    struct str text;     /* NAME, SUFFIX, NAME_PREFIX, WILDCARD, FILE: view of the token */
};

/* hosts_allow_pattern_parse - classify one pattern token (as returned in a
 * PATTERN event). Keywords are case-insensitive, as in tcpd. IPv4-mapped
 * IPv6 patterns become IPv4 patterns. Rejected, with a reason written to
 * reason[reason_cap]: malformed addresses ("999.999.999.999", "010.0.0.1",
 * "1.2.3"), masks that are not addresses or lengths, the mask
 * 255.255.255.255 (guide 7.2), an IPv4 net with bits outside its mask
 * (tcpd silently matches nothing), relative paths, wildcards combined with
 * a leading or trailing dot or a mask, user@host, @netgroup, PARANOID,
 * names longer than HOSTS_ALLOW_NAME_MAX, and bytes that cannot be in a
 * host name. Returns true on success. */
bool hosts_allow_pattern_parse(struct str tok, struct hosts_allow_pattern *out, char *reason,
                               size_t reason_cap);

#endif

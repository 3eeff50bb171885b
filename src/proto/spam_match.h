/* spam_match - the custom spam rules applied to one mail, and the facts of
 * the mail the other spam methods need (spec SPAM-4, SPAM-5, SPAM-8,
 * SPAM-9, C-14, C-15, G-09, G-33; guide 003:2505-2644).
 *
 * What it does: spam_mail_examine reads a whole mail held in memory once
 * (the MIME structure with proto/mime_walk, then every entity in document
 * order) and gives
 *   - the facts: the relay addresses (the SMTP client's, then those of the
 *     top-level Received: fields, proto/received_ips) and the URL hosts of
 *     the text and HTML bodies (proto/url_hosts), which the RBL and SURBL
 *     lookups use whatever the rules decide;
 *   - the verdict of the rules, evaluated top to bottom: the first
 *     satisfied BLACK rule makes the mail spam (its detection name
 *     SEKISHO/SPAM_LIST/CUSTOM/<line>/<field>, spam_rule_detection_name),
 *     the first satisfied WHITE rule makes it not spam (and the caller
 *     skips the other methods), NONE rules only feed the next AND or
 *     AND_SAMEPART rule.
 *
 * What each field reads ("values"; a rule matches a value when one of its
 * strings is a substring of it, or with HEADMATCH a prefix, with TAILMATCH
 * a suffix, with both a prefix and a suffix; IGNORECASE folds ASCII only;
 * no charset conversion of bodies: other charsets are matched as the bytes
 * the rule writes as %xHH):
 *   header field  every occurrence of the field (name compared ASCII
 *                 case-insensitively) in the top-level header, each value
 *                 unfolded (RFC 5322 2.2.3) and trimmed; Subject decoded
 *                 from RFC 2047 to UTF-8 first (mime_decode_words; a
 *                 Subject whose decoding exceeds SPAM_MATCH_SUBJECT_MAX is
 *                 matched undecoded). Fields whose name starts with
 *                 "Content-" (the MIME entity fields, RFC 2045/2183) are
 *                 also read in the header of every MIME entity, so that the
 *                 guide's example "Content-Type, then AND_SAMEPART the file
 *                 name of the same attachment" works. Other fields of inner
 *                 headers (the Subject of an attached message/rfc822) are
 *                 not read.
 *   FILENAME      the decoded file name (RFC 2047/2231, UTF-8, mime_walk)
 *                 of each entity that has one.
 *   FILESIZE      the decoded size in bytes, as decimal text, of each
 *                 attached file: an entity with a file name or with
 *                 Content-Disposition: attachment.
 *   TEXTBODY      each text body: a leaf entity of type text/plain that is
 *                 not Content-Disposition: attachment (a mail without MIME
 *                 is one), decoded from base64 / quoted-printable; inner
 *                 parts of an attached message/rfc822 are bodies too.
 *                 Substring search over the whole body (line breaks as
 *                 they are), HEADMATCH / TAILMATCH per line (a line without
 *                 its LF or CRLF).
 *   HTMLBODY      each HTML body (text/html, as for TEXTBODY), decoded, a
 *                 line break (CRLF, LF or a lone CR) read as one space.
 *   URLHOST       each host url_hosts reports (the first URL_HOSTS_MAX
 *                 distinct hosts of the mail's text and HTML bodies).
 *   RELAYIP       each address of facts.relay.
 *   ALWAYS        true.
 *
 * Parts, for AND_SAMEPART: every entity mime_walk reports is a part (its
 * index; the top-level message is part 0, MIME_PARTS_MAX at most). A
 * value belongs to the part it was read from: the top-level header's
 * fields, the Received: addresses and the SMTP client address to part 0,
 * an entity's own Content-* fields, file name, size and body to that
 * entity, a URL host to the body it was found in (each part's hosts are
 * collected separately when a rule needs it). So "NONE Content-Type
 * application/zip" then "BLACK FILENAME AND_SAMEPART .exe" is satisfied by
 * one attachment that is both, not by a zip and another .exe file; and a
 * top-level header rule pairs with AND_SAMEPART only with part-0 values
 * (its Content-Type, a non-MIME mail's body, the relay addresses).
 *
 * The logic, for rule i with match_i(p) = "a value of part p matches":
 *   own_i(p) = match_i(p), or !match_i(p) with NOT; ALWAYS: true;
 *   any_i    = match_i(p) for some p, or with NOT for no p; ALWAYS: true;
 *   plain:        sat_i = any_i;                   S_i = sat_i ? own_i : {}
 *   AND:          sat_i = any_i && sat_(i-1);      S_i = sat_i ? own_i : {}
 *   AND_SAMEPART: S_i = own_i & S_(i-1);           sat_i = S_i not empty
 * (S_i: the parts where rule i holds). So NOT means "no string matches
 * anywhere" (the guide), and with AND_SAMEPART "in that part" ("NONE
 * Content-Type application/zip" + "BLACK FILENAME NOT,AND_SAMEPART .zip":
 * a zip whose name does not end in .zip). The first i with sat_i whose
 * judgment is BLACK or WHITE decides. The detection name of a header rule
 * carries the field name as the mail writes it (the first matching
 * occurrence), or as the rule writes it when nothing matched (NOT).
 *
 * Cost: the mail is walked once (mime_walk's two passes) and each decoded
 * body byte is read by the matcher once per search string not yet found
 * in that part (memmem, glibc's is linear), so time is linear in the mail
 * for a bounded rule set (SPAM_RULES_MAX rules, SPAM_RULE_STRINGS_MAX
 * strings). Bodies are decoded in SPAM_MATCH_CHUNK pieces; the only carry
 * between pieces is the last SPAM_RULE_STRING_MAX - 1 bytes (a string
 * straddling two pieces is found) and per value or line its first and last
 * SPAM_RULE_STRING_MAX bytes for HEADMATCH / TAILMATCH. No allocation but
 * mime_decode's iconv for a Subject or file name in a legacy charset; no
 * buffer proportional to the mail: the working memory is struct
 * spam_match_scratch, inside the facts the caller allocates (about 300
 * KiB, so not on a worker's 256 KiB stack). Pure: no I/O, no clock.
 */
#ifndef SEKISHO_PROTO_SPAM_MATCH_H
#define SEKISHO_PROTO_SPAM_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/mime_walk.h"
#include "proto/received_ips.h"
#include "proto/spam_rule_parse.h"
#include "proto/url_hosts.h"

/* Relay addresses kept: the SMTP client and the Received: addresses. */
#define SPAM_RELAY_MAX 32
/* Decoded body bytes handled at once. */
#define SPAM_MATCH_CHUNK 65536u
/* Bytes of a decoded Subject (RFC 2047 decoding can triple 8-bit text). */
#define SPAM_MATCH_SUBJECT_MAX 65536u

/* Private working memory of spam_mail_examine. */
struct spam_match_scratch {
    struct mime_walker walker;
    struct url_hosts part_hosts; /* one part's hosts, when AND_SAMEPART needs them */
    uint8_t hit[SPAM_RULES_MAX][(MIME_PARTS_MAX + 7) / 8]; /* match_i(p) */
    char found[SPAM_RULES_MAX][SPAM_RULE_HEADER_MAX + 1];  /* field name as the mail writes it */
    char dec[SPAM_MATCH_CHUNK];                            /* decoded body bytes */
    char win[SPAM_RULE_STRING_MAX + SPAM_MATCH_CHUNK];     /* carry + piece */
    char low[SPAM_RULE_STRING_MAX + SPAM_MATCH_CHUNK];     /* the same, ASCII lower-cased */
    char subject[SPAM_MATCH_SUBJECT_MAX];
};

struct spam_mail_facts {
    unsigned nrelay;        /* addresses, in order: SMTP client first (if given), then the
                               Received: fields top (newest) to bottom; de-duplicated */
    unsigned relay_dropped; /* addresses beyond SPAM_RELAY_MAX, not kept (counted with repeats) */
    char relay[SPAM_RELAY_MAX][RECEIVED_ADDR_MAX]; /* canonical inet_ntop text (IPv4-mapped
                                                      IPv6 as IPv4) */
    struct url_hosts hosts;            /* URL hosts of text and HTML bodies (proto/url_hosts) */
    struct spam_match_scratch scratch; /* private */
};

enum spam_match_verdict { SPAM_MATCH_NONE = 0, SPAM_MATCH_BLACK, SPAM_MATCH_WHITE };

struct spam_match_result {
    enum spam_match_verdict verdict;
    unsigned line;                               /* the deciding rule's line, 0 for NONE */
    char name[SPAM_RULE_DETECTION_NAME_MAX + 1]; /* BLACK: SEKISHO/SPAM_LIST/CUSTOM/<line>/<field>;
                                                    else "" */
};

/* spam_mail_examine - one pass over msg[0..len): the facts, and the first
 * rule (top to bottom) that decides. rules[0..nrules) as spam_rule_next
 * gave them (nrules 0: the facts only, verdict NONE). client_ip: the SMTP
 * client address as text (NULL for POP; an invalid text is ignored). A
 * message mime_walk refuses (len 0) has no parts but part 0, empty. */
void spam_mail_examine(const struct spam_rule *rules, unsigned nrules, const char *msg, size_t len,
                       const char *client_ip, struct spam_mail_facts *facts,
                       struct spam_match_result *res);

#endif

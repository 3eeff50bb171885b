/* spam_rule_parse - the text of conf/spam/files.txt and of a custom rule
 * file, conf/spam/custom.txt (SPAM-4, SPAM-5, SPAM-6, C-14, C-15, G-09,
 * G-34; guide 003:2505-2644).
 *
 * What it does: spam_files_parse reads files.txt, lines
 * "<LIST><TAB><file name>", and says whether the CUSTOM list is active and
 * under which bare file name (relative to conf/spam/). The other lists the
 * guide names (UCE, ADVERTISEMENT, HTMLMAIL, VIRUSERROR, ERROR: SPAM-6,
 * G-34) are known but not built: they are reported as such with their line,
 * so the loader refuses the file rather than make a promise it cannot keep.
 * spam_rule_next iterates over a rule file: one rule per line, four
 * TAB-separated columns (judgment, field, compare keywords, search
 * strings), and yields each rule decoded and checked, numbered by its line
 * (G-09: the rule number of the detection name is the 1-based line number,
 * counting every line). spam_rule_detection_name forms the detection name
 * SEKISHO/SPAM_LIST/CUSTOM/<line>/<field> from a rule and the header field
 * name the matcher found, so the matcher and the log cannot disagree on it.
 *
 * Comments and blank lines (decided from the guide, which gives no syntax
 * for either: the file is written by the web console, "one condition per
 * line"): here the administrator edits the file by hand, so a line whose
 * first byte is '#' is a comment and a line of blanks (or nothing) is
 * skipped. Neither can be a rule (column 1 must be BLACK, WHITE or NONE),
 * so accepting them changes the meaning of no valid file; both still count
 * as lines for the rule numbers, and neither is a rule for AND (AND reads
 * "the previous rule", not the previous line). files.txt likewise.
 *
 * Design of a decoded rule: struct spam_rule is self-contained. The search
 * strings are decoded into the rule's own bounded buffer and addressed by
 * offset (spam_rule_string), and the header field name is copied into it,
 * so a rule can be copied with memcpy or assignment and outlives the file
 * text; no pointer into the text or into itself. Decoding never makes a
 * string longer, so SPAM_RULE_LINE_MAX bytes of buffer hold every rule a
 * line can carry. The loader keeps at most SPAM_RULES_MAX of them (or
 * copies just the used part of buf). No allocation here.
 *
 * Strict on purpose (as userdb_parse): a rule the matcher would apply
 * differently from what the administrator meant, or never apply, is
 * refused with its line rather than repaired or skipped. Keywords are
 * written as the guide writes them, in upper case; a field keyword in
 * another case ("TextBody") is refused because header field names are
 * case-insensitive and it would otherwise silently be a header rule.
 *
 * Whole buffer, not resumable: the files are read once, whole, at start and
 * on SIGHUP, and a file with an error is refused as a whole
 * ("custom.txt:<line>: <reason>", the old rules kept).
 *
 * What it does not do: no I/O, no allocation, no matching, no RFC 2047
 * decoding of the mail (the matcher's), no opening of the file files.txt
 * names.
 */
#ifndef SEKISHO_PROTO_SPAM_RULE_PARSE_H
#define SEKISHO_PROTO_SPAM_RULE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"

/* Rules in one file (SPAM-4: "up to 100 custom rules"). */
#define SPAM_RULES_MAX 100u
/* Bytes of one line, its "\n" or "\r\n" excluded. Not given by the guide:
 * chosen so that a rule holds many long strings (twice the 2047 of
 * hosts.allow, guide 7.2) while a line still fits a small stack buffer. */
#define SPAM_RULE_LINE_MAX 4095u
/* Search strings in one rule (column 4). */
#define SPAM_RULE_STRINGS_MAX 64u
/* Bytes of one decoded search string. */
#define SPAM_RULE_STRING_MAX 1023u
/* Bytes of a header field name in column 2 (guide: "up to 29 characters"). */
#define SPAM_RULE_HEADER_MAX 29u
/* Bytes of a file name in files.txt. */
#define SPAM_FILES_NAME_MAX 255u
/* The longest detection name spam_rule_detection_name writes, NUL
 * excluded: "SEKISHO/SPAM_LIST/CUSTOM/" + a line number + "/" + a field
 * name of at most SPAM_RULE_HEADER_MAX bytes. */
#define SPAM_RULE_DETECTION_NAME_MAX (25u + 10u + 1u + SPAM_RULE_HEADER_MAX)

enum spam_rule_judgment {
    SPAM_RULE_BLACK = 0, /* satisfied: spam */
    SPAM_RULE_WHITE,     /* satisfied: not spam, later methods skipped */
    SPAM_RULE_NONE,      /* no action: feeds the following AND / AND_SAMEPART rule */
};
const char *spam_rule_judgment_name(enum spam_rule_judgment j);

enum spam_rule_field {
    SPAM_FIELD_HEADER = 0, /* a header field, named in header[] */
    SPAM_FIELD_FILENAME,   /* attachment file names */
    SPAM_FIELD_FILESIZE,   /* attachment sizes in bytes, as decimal text */
    SPAM_FIELD_TEXTBODY,   /* the text body */
    SPAM_FIELD_HTMLBODY,   /* the HTML body, line breaks as spaces */
    SPAM_FIELD_URLHOST,    /* host part of URLs in the mail */
    SPAM_FIELD_RELAYIP,    /* addresses in Received: (SMTP: and the client's) */
    SPAM_FIELD_ALWAYS,     /* always true */
};
/* spam_rule_field_name - the column-2 keyword ("TEXTBODY"); "HEADER" for
 * SPAM_FIELD_HEADER (whose name is the rule's header[]). */
const char *spam_rule_field_name(enum spam_rule_field f);

/* Column 3 keywords, a bit set in spam_rule.flags. */
#define SPAM_CMP_IGNORECASE   0x01u /* case-insensitive (ASCII) */
#define SPAM_CMP_HEADMATCH    0x02u /* prefix match; per line in TEXTBODY */
#define SPAM_CMP_TAILMATCH    0x04u /* suffix match; per line in TEXTBODY */
#define SPAM_CMP_NOT          0x08u /* true when no string matches */
#define SPAM_CMP_AND          0x10u /* and the previous rule true anywhere in the mail (C-15) */
#define SPAM_CMP_AND_SAMEPART 0x20u /* and the previous rule true in the same MIME part */

struct spam_rule {
    unsigned line;   /* 1-based line: the rule number of the detection name */
    unsigned number; /* 1-based count of rules so far (1..SPAM_RULES_MAX) */
    enum spam_rule_judgment judgment;
    enum spam_rule_field field;
    unsigned flags;                        /* SPAM_CMP_* */
    char header[SPAM_RULE_HEADER_MAX + 1]; /* HEADER: the name as written, NUL-terminated */
    size_t header_len;                     /* 0 unless HEADER */
    unsigned nstrings;                     /* 0 only for ALWAYS */
    uint16_t off[SPAM_RULE_STRINGS_MAX];   /* string i is buf[off[i] .. off[i] + len[i]) */
    uint16_t len[SPAM_RULE_STRINGS_MAX];
    char buf[SPAM_RULE_LINE_MAX]; /* the decoded strings, back to back (may hold NUL bytes) */
};

/* spam_rule_string - decoded search string i (< r->nstrings), a view into
 * r->buf: valid as long as *r is. */
struct str spam_rule_string(const struct spam_rule *r, unsigned i);

struct spam_rule_error {
    unsigned line;      /* 1-based line at fault */
    const char *reason; /* static text naming the column ("column 2: ...") */
};

enum spam_rule_result {
    SPAM_RULE_END = 0, /* no more rules: the whole file was good */
    SPAM_RULE_RULE,    /* *rule holds the next rule */
    SPAM_RULE_ERROR,   /* *err says where and why; the file must be refused */
};

/* The iterator. Initialise with spam_rule_parser_init; fields private. */
struct spam_rule_parser {
    const char *text;
    size_t len;
    size_t pos;         /* start of the next line */
    unsigned line;      /* its line number */
    unsigned rules;     /* rules returned so far */
    unsigned none_line; /* line of a NONE rule still waiting for its AND rule, or 0 */
    const char *failed; /* the error once one was returned: every later call repeats it */
    unsigned failed_line;
};

/* spam_rule_parser_init - iterate over text[0..len); NUL bytes are errors,
 * not terminators. */
void spam_rule_parser_init(struct spam_rule_parser *p, const char *text, size_t len);

/* spam_rule_next - the next rule, END, or ERROR.
 *
 * Lines end in LF or CRLF; the last needs no line end. A rule line is
 * exactly four columns separated by single TABs:
 *   1  BLACK, WHITE or NONE.
 *   2  FILENAME FILESIZE TEXTBODY HTMLBODY URLHOST RELAYIP ALWAYS, or a
 *      header field name: 1..SPAM_RULE_HEADER_MAX bytes of RFC 5322 ftext
 *      (printable ASCII but ':'), compared case-insensitively by the matcher.
 *   3  empty (case-sensitive substring search), or ','-separated keywords
 *      IGNORECASE HEADMATCH TAILMATCH NOT AND AND_SAMEPART (G-09), each at
 *      most once. Refused: HEADMATCH or TAILMATCH with HTMLBODY (guide:
 *      "cannot be used for the HTML body"); AND with AND_SAMEPART (one
 *      previous rule, one way to combine); AND or AND_SAMEPART on the first
 *      rule (nothing before it); ALWAYS with anything but AND or
 *      AND_SAMEPART (there is nothing to compare). HEADMATCH with TAILMATCH
 *      is accepted: the guide's two independent check boxes, both
 *      conditions must hold (the field, or TEXTBODY line, starts and ends
 *      with the same search string).
 *   4  ','-separated search strings, 1..SPAM_RULE_STRINGS_MAX of them, each
 *      1..SPAM_RULE_STRING_MAX bytes once decoded: "%xHH" (two hex digits,
 *      either case) is the byte HH, "%%" is '%', and "\xHH" (also U+00A5 YEN SIGN
 *      then "xHH": the guide's examples render the backslash as the yen
 *      sign, as Japanese fonts do) is accepted as an alias (C-14); a literal ',' is
 *      "%x2c" (G-09). Any other '%', or "\x" without two hex digits, is an
 *      error; other bytes (UTF-8 included) are taken as they are, blanks
 *      too. FILESIZE strings are decimal digits (a size compared as text
 *      can match nothing else). ALWAYS takes an empty column 4 and no
 *      strings.
 * A NONE rule must be followed by an AND or AND_SAMEPART rule (otherwise
 * it would never act); the error names the NONE rule's line. More than
 * SPAM_RULES_MAX rules, a line over SPAM_RULE_LINE_MAX bytes, and a control
 * byte (NUL, a lone CR) in a rule line are errors. ERROR is final: every
 * later call returns the same error. Bounded: every call consumes at least
 * one line or returns END or ERROR. */
enum spam_rule_result spam_rule_next(struct spam_rule_parser *p, struct spam_rule *rule,
                                     struct spam_rule_error *err);

/* spam_rule_detection_name - "SEKISHO/SPAM_LIST/CUSTOM/<line>/<field>"
 * (SPAM-5, G-09) into out (NUL-terminated); its length, or 0 when it does
 * not fit in cap (SPAM_RULE_DETECTION_NAME_MAX + 1 always does). <field> is
 * the header field name as written in the mail (found) for a header rule,
 * or, when found is empty or is not a field name (the matcher passes what
 * it read from a possibly malformed mail), the name as the rule writes it;
 * the field keyword ("TEXTBODY") for the other rules, found ignored. */
size_t spam_rule_detection_name(const struct spam_rule *r, struct str found, char *out, size_t cap);

/* files.txt */

enum spam_list {
    SPAM_LIST_CUSTOM = 0,
    SPAM_LIST_UCE,
    SPAM_LIST_ADVERTISEMENT,
    SPAM_LIST_HTMLMAIL,
    SPAM_LIST_VIRUSERROR,
    SPAM_LIST_ERROR,
};
const char *spam_list_name(enum spam_list l);

enum spam_files_result {
    SPAM_FILES_OK = 0,    /* *out is the configuration */
    SPAM_FILES_ERROR,     /* *err: a malformed line; the file must be refused */
    SPAM_FILES_NOT_BUILT, /* *err: the line of a known list other than CUSTOM, which
                           * Sekisho does not provide; the file must be refused */
};

struct spam_files {
    bool custom;     /* a CUSTOM line is present */
    unsigned line;   /* its line */
    struct str file; /* its bare file name, a view into the text */
};

/* spam_files_parse - read a whole files.txt (len bytes, NUL bytes are
 * errors). Lines "<LIST><TAB><file>", LIST one of the enum's names in
 * upper case, file 1..SPAM_FILES_NAME_MAX bytes of printable ASCII other
 * than blanks, without '/', '\\' or "..", a file in conf/spam/ itself;
 * comment ('#') and blank lines as in custom.txt; LF or CRLF. Errors: an
 * unknown list, a second line for one list, a missing or extra column, a
 * bad file name; a known list other than CUSTOM is NOT_BUILT at its line
 * (the first such line, unless a malformed line comes before it). No
 * CUSTOM line: OK with out->custom false. */
enum spam_files_result spam_files_parse(const char *text, size_t len, struct spam_files *out,
                                        struct spam_rule_error *err);

#endif

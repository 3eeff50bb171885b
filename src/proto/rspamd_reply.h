/* rspamd_reply - rspamd's /checkv2 JSON reply: the verdict fields.
 *
 * What it does: parses the JSON document rspamd (3.x) answers to POST
 * /checkv2 with (its protocol documentation, "rspamd protocol"), strictly
 * (RFC 8259: one value, no trailing bytes but whitespace, no comments, no
 * trailing commas, strings valid UTF-8 with valid escapes), and keeps what
 * the gateway needs:
 *   - "action" (string: "no action", "greylist", "add header",
 *     "rewrite subject", "soft reject", "reject");
 *   - "score", "required_score" (numbers);
 *   - "is_skipped" (boolean; rspamd sets it when a pre-filter decided,
 *     e.g. GTUBE, which still comes with action "reject");
 *   - "error" (string: rspamd's reply to a request it could not handle);
 *   - "symbols": an object of symbol objects; for each the key (its name)
 *     and its "score". At most RSPAMD_REPLY_SYMBOLS_MAX symbols are kept:
 *     when there are more, those of highest score are kept, so the top
 *     symbols are right whatever the count (nsymbols counts them all).
 * Every other member ("messages", "milter", "urls", "thresholds" ...) is
 * checked for well-formedness and skipped.
 *
 * It also maps a reply to the gateway's verdict (rspamd_reply_is_spam)
 * and composes the detection name
 *   SEKISHO/SPAM_ENGINE/<action>/<score>/<top symbols>
 * (rspamd_reply_name): <action> with ' ' turned into '_', <score> with two
 * decimals, <top symbols> the up to RSPAMD_REPLY_TOP symbols of highest
 * positive score (ties: the earlier in the reply) joined by '+', each with
 * only [A-Za-z0-9_] kept. With no symbol of positive score (GTUBE's
 * symbol scores 0: the pre-filter forced the action) the name ends after
 * the score ("SEKISHO/SPAM_ENGINE/reject/15.00").
 *
 * Rejected (RSPAMD_REPLY_BAD, err says why): anything that is not one
 * JSON object; nesting deeper than RSPAMD_REPLY_DEPTH_MAX; a number
 * longer than RSPAMD_REPLY_NUMBER_MAX characters or out of double's range;
 * a known member of the wrong type or given twice; an action longer than
 * RSPAMD_REPLY_ACTION_MAX bytes. Symbol names longer than
 * RSPAMD_REPLY_SYMBOL_MAX and errors longer than RSPAMD_REPLY_ERROR_MAX
 * are cut (they are informative only). A reply without "action" is
 * well-formed for this parser (has_action false): the caller decides.
 *
 * What it does not do: no I/O, no allocation (the recursion is bounded by
 * RSPAMD_REPLY_DEPTH_MAX), no globals. Numbers are checked against the
 * JSON grammar and then converted with strtod(), whose decimal point is
 * the C locale's: Sekisho never calls setlocale(). Cost linear in the
 * input.
 */
#ifndef SEKISHO_PROTO_RSPAMD_REPLY_H
#define SEKISHO_PROTO_RSPAMD_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#define RSPAMD_REPLY_DEPTH_MAX   16  /* nested objects/arrays (the reply uses 4) */
#define RSPAMD_REPLY_NUMBER_MAX  64  /* characters of one JSON number */
#define RSPAMD_REPLY_ACTION_MAX  31  /* longest action kept ("rewrite subject" is 15) */
#define RSPAMD_REPLY_SYMBOL_MAX  63  /* bytes of a symbol name kept */
#define RSPAMD_REPLY_ERROR_MAX   159 /* bytes of an error kept */
#define RSPAMD_REPLY_SYMBOLS_MAX 64  /* symbols kept (highest scores) */
#define RSPAMD_REPLY_TOP         3   /* symbols named in the detection name */
#define RSPAMD_REPLY_NAME_PREFIX "SEKISHO/SPAM_ENGINE/"

enum rspamd_reply_status {
    RSPAMD_REPLY_OK = 0,
    RSPAMD_REPLY_BAD, /* malformed or over a limit; err says why */
};

struct rspamd_symbol {
    char name[RSPAMD_REPLY_SYMBOL_MAX + 1];
    double score;   /* 0 when the symbol object has none */
    unsigned order; /* position in the reply (0-based), for stable ties */
};

struct rspamd_reply {
    bool has_action, has_score, has_required_score, has_error;
    bool is_skipped;
    char action[RSPAMD_REPLY_ACTION_MAX + 1];
    double score, required_score;
    char error[RSPAMD_REPLY_ERROR_MAX + 1];
    unsigned nsymbols; /* symbols in the reply */
    unsigned nkept;    /* symbols[0..nkept): the highest-scoring, reply order */
    struct rspamd_symbol symbols[RSPAMD_REPLY_SYMBOLS_MAX];
};

/* rspamd_reply_parse - parse buf[0..len) into *out (always reset first).
 * On RSPAMD_REPLY_BAD, err (if errcap > 0) holds a short reason with the
 * byte offset, and *out must not be used. */
enum rspamd_reply_status rspamd_reply_parse(const char *buf, size_t len, struct rspamd_reply *out,
                                            char *err, size_t errcap);

/* rspamd_reply_is_spam - whether an action classifies the mail as spam:
 * "reject", "rewrite subject", "add header" (rspamd's own thresholds were
 * reached). "no action", "greylist", "soft reject" (temporary: greylisting
 * or rate limits, not a verdict on the content) and anything unknown are
 * not spam. */
bool rspamd_reply_is_spam(const char *action);

/* rspamd_reply_top - indexes into r->symbols of the up to n symbols of
 * highest positive score, highest first (ties: reply order). Returns how
 * many were stored. */
unsigned rspamd_reply_top(const struct rspamd_reply *r, unsigned *idx, unsigned n);

/* rspamd_reply_name - the detection name (see above) into buf (cap > 0),
 * NUL-terminated; never longer than cap - 1 bytes: symbols that would not
 * fit are left out whole. Returns the length. */
size_t rspamd_reply_name(const struct rspamd_reply *r, char *buf, size_t cap);

#endif

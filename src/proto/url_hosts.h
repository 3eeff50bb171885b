/* url_hosts - the hosts of the http:// and https:// URLs in a mail's bodies
 * (spec SPAM-9, G-33; the URLHOST condition of the custom rules).
 *
 * What it does: reads the decoded text and HTML parts of one mail as a
 * stream of chunks and collects the distinct hosts of the URLs in them,
 * as a browser or a mail reader's linkifier would reach them:
 *   - a URL starts at "http:" or "https:" (any case) not preceded by a
 *     letter, digit, '+', '-' or '.' (so "hxxp://", "xhttp://" and
 *     "shttp://" are not URLs), followed by one or more '/' or '\'
 *     (browsers read "http:/h", "http:\\h" and "http:///h" as http://h/);
 *   - the authority ends at '/', '\', '?', '#', whitespace, a control or
 *     non-ASCII byte, or any byte that cannot be in an authority
 *     ("<>\"'`(){}|^,;!*$&+="), so "(see http://a.example)" and
 *     "http://a.example<br>" give a.example, and Japanese text directly
 *     after a URL ends it; a '[' or ']' other than around an IPv6 literal
 *     makes the URL invalid (browsers refuse "http://x[::1]/");
 *   - userinfo is skipped to the host (the last '@' wins, as in WHATWG
 *     URL), the port is dropped (a port that is not digits makes the URL
 *     invalid, as in browsers), the host is percent-decoded
 *     ("exa%6Dple.com"), lower-cased, and trailing dots are removed;
 *   - the host must then be 1..URL_HOST_MAX bytes of letters, digits,
 *     '-', '_' and '.' (underscores occur in real DNS names and browsers
 *     resolve them), or an IPv6 literal "[...]" that inet_pton accepts,
 *     reported lower-cased with its brackets. Anything else is counted in
 *     `invalid` and not reported. IPv4 in any form ("1.2.3.4", "0x7f.1",
 *     "2130706433") is reported as written: proto/surbl_domain tells
 *     addresses from domains.
 *   - IDN: a punycode host ("xn--...") is reported as written; a host
 *     written in UTF-8 is not reported (its first non-ASCII byte ends the
 *     authority, and a host ended that way without a '.' is dropped as
 *     invalid rather than reported as its ASCII prefix).
 * HTML parts (URL_PART_HTML): character references are decoded first, as
 * browsers decode them in attribute values and text, so href/src values and
 * linkified text are both read: numeric (&#46; &#x2E;, ';' optional),
 * and the named ones that stand for ASCII bytes found in URLs (&period;
 * &colon; &sol; &bsol; &commat; &percnt; &lowbar; ...; &amp; &lt; &gt;
 * &quot; also without ';'). A reference for a non-ASCII code point
 * (&#233;, &#0; as U+FFFD) ends the authority like a non-ASCII byte; any
 * other "&name;" is kept as written, and its '&' ends the authority.
 * proto/html_scan is not used: it reports only a body's executable parts
 * (scripts, handlers, script URLs, object tags) over a whole buffer, while
 * URLs are in every attribute and in text and arrive in chunks; a URL is
 * found wherever "http:" appears after decoding, so no tokenizer is needed.
 * Not done: browsers remove TAB/CR/LF inside an attribute's URL
 * ("http://exa&#10;mple.com"); here they end it (needs attribute context).
 *
 * Only URLs with a scheme: G-33 says "host of each http/https URL", and
 * scheme-less text ("www.example.com/x") is left out on purpose: it is not
 * a URL to a browser (linkifiers differ), and guessing hosts in plain text
 * would turn file names and sentences ("index.html", "e.g.") into lookups.
 *
 * Streaming: bytes are consumed one at a time by a state machine; the only
 * carry between chunks is the authority read so far (URL_AUTHORITY_MAX
 * bytes since its last '@') and a pending character reference
 * (URL_ENTITY_MAX bytes), so the result does not depend on where chunks
 * are split. Parts of one mail are read in turn (url_hosts_begin .. end);
 * hosts are collected for the whole mail, de-duplicated, in order of first
 * appearance, at most URL_HOSTS_MAX: more distinct hosts are counted in
 * `dropped`.
 *
 * What it owns: the hosts, copied into the struct (no allocation; the
 * struct is about 16 KiB). What it does not do: no I/O, no DNS, no
 * registrable-domain reduction (proto/surbl_domain), no MIME decoding (the
 * caller feeds decoded part bodies).
 */
#ifndef SEKISHO_PROTO_URL_HOSTS_H
#define SEKISHO_PROTO_URL_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* Longest host name (RFC 1035 presentation form without the final dot). */
#define URL_HOST_MAX 253
/* Distinct hosts kept per mail (SPAM-9 sends at most 32 queries anyway). */
#define URL_HOSTS_MAX 64
/* Authority bytes kept since the last '@': a host of URL_HOST_MAX bytes
 * fully percent-encoded, brackets and a port fit. */
#define URL_AUTHORITY_MAX (3 * URL_HOST_MAX + 16)
/* Longest character reference looked at ("&#x0000002E;" fits). */
#define URL_ENTITY_MAX 16

enum url_part_kind {
    URL_PART_TEXT = 0, /* text/plain and other text bodies: bytes as they are */
    URL_PART_HTML,     /* text/html: character references decoded first */
};

/* The collector. Initialise with url_hosts_init; read host[], n, dropped
 * and invalid; the other fields are private. */
struct url_hosts {
    size_t n;       /* distinct hosts reported */
    size_t dropped; /* distinct valid hosts beyond URL_HOSTS_MAX (counted with repeats) */
    size_t invalid; /* URLs whose host was empty, too long or malformed */
    char host[URL_HOSTS_MAX][URL_HOST_MAX + 1]; /* NUL-terminated */
    unsigned char host_len[URL_HOSTS_MAX];      /* fits: URL_HOST_MAX < 256 */

    enum url_part_kind kind;
    int state;          /* scanner state */
    unsigned match;     /* bytes of "https:" matched */
    unsigned char prev; /* the byte before the current one (after decoding) */
    bool bracket;       /* inside "[...]" of the authority */
    bool overflow;      /* more than URL_AUTHORITY_MAX bytes since the last '@' */
    size_t auth_len;    /* bytes in auth[] */
    char auth[URL_AUTHORITY_MAX];
    size_t ent_len; /* pending character reference in ent[], 0: none */
    char ent[URL_ENTITY_MAX];
};

/* url_hosts_init - an empty collector for one mail. */
void url_hosts_init(struct url_hosts *u);

/* url_hosts_begin - start a part of this kind (ends a part not ended). */
void url_hosts_begin(struct url_hosts *u, enum url_part_kind kind);

/* url_hosts_feed - the next len bytes of the current part; any chunking. */
void url_hosts_feed(struct url_hosts *u, const char *p, size_t len);

/* url_hosts_end - the end of the current part: a URL at its very end is
 * taken, a pending reference decoded; nothing carries into the next part. */
void url_hosts_end(struct url_hosts *u);

/* url_hosts_get - host i (i < n), lower-case, 1..URL_HOST_MAX bytes. */
struct str url_hosts_get(const struct url_hosts *u, size_t i);

#endif

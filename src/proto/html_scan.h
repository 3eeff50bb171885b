/* html_scan - find the executable parts of an HTML mail body.
 *
 * The mail proxies need three things from an HTML part (spec SCAN-6,
 * SCAN-8): does it hold scripts (block_script, FSIGK/POLICY_BLOCK_SCRIPT),
 * does it embed ActiveX controls (block_activex,
 * FSIGK/POLICY_BLOCK_ACTIVEX), and what are its "executable parts", the
 * only bytes scanned when virus_check_wholehtml=no. html_scan() answers
 * all three in one linear pass over the decoded HTML.
 *
 * Executable parts handed to the callback, each as a view into the input:
 *   - the content of <script> elements (up to the </script> that ends it
 *     in HTML5, whitespace, '/' or '>' after the name, not one nested in
 *     "<!-- <script> ... -->"; or the end);
 *   - the values of event-handler attributes (on<letters>=...);
 *   - attribute values that hold a script URL (javascript:, vbscript:,
 *     jscript:, livescript:, also after a meta refresh "0;url=");
 *   - the whole start tag of <object>, <embed> and <applet> elements
 *     (their class ids, code bases and data URLs).
 * Flags: HTML_F_SCRIPT for any of the first three and for <script src=>;
 * HTML_F_ACTIVEX for an <object> with a classid or codebase attribute
 * (how ActiveX controls are embedded).
 *
 * Read as browsers read it, so that the usual evasions do not hide a
 * script: tag and attribute names are case-insensitive; a script URL is
 * recognised after numeric and named character references (&#58;
 * &#x3a; &colon; &Tab; &NewLine;) are decoded and ASCII whitespace and
 * control bytes are skipped, and anywhere in the value. Comments, bogus
 * comments (<!x>, <?x>, </ x>), CDATA sections and the text of raw-text
 * elements (<style>, <title>, <textarea>, <noscript>...) end where HTML5
 * ends them, so a quote opened inside one cannot hide the markup after
 * it; their content is read as markup too (IE's conditional comments run
 * the scripts inside them; a mail reader may not know <noscript>), so a
 * tag inside a comment counts, and such a tag running past the end of
 * its comment is also read in full. End tags are read (their quoted
 * values hide what is inside them) but their attributes do nothing.
 * Malformed HTML never stops the pass: an unterminated tag or attribute
 * value ends at the end of the input. Parts come in the order they are
 * found; they may overlap (a tag read past a comment's end).
 *
 * It owns nothing, allocates nothing, does no I/O; it reads only
 * [html, html + len). Time is linear in len (each byte is looked at a
 * bounded number of times: region contents are read again as markup at
 * most 3 levels deep, and a script URL is searched for in the first
 * HTML_URL_SCAN_MAX normalised bytes of a value only).
 */
#ifndef SEKISHO_PROTO_HTML_SCAN_H
#define SEKISHO_PROTO_HTML_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

#define HTML_F_SCRIPT  (1u << 0) /* scripts: block_script */
#define HTML_F_ACTIVEX (1u << 1) /* <object classid|codebase>: block_activex */

/* Normalised bytes of an attribute value searched for a script URL. */
#define HTML_URL_SCAN_MAX 512
/* Longest tag or attribute name looked at; longer names are read as
 * their first HTML_NAME_MAX bytes. */
#define HTML_NAME_MAX 32

/* Called for each executable part, in document order; return false to
 * stop the pass (html_scan returns the flags found so far). */
typedef bool html_exec_fn(void *arg, struct str part);

/* html_scan - scan html[0..len); fn may be NULL. Returns HTML_F_*. */
unsigned html_scan(const char *html, size_t len, html_exec_fn *fn, void *arg);

#endif

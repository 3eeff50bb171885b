/* surbl_domain - the registrable domain of a URL host for SURBL (G-33).
 *
 * What it does: G-33's reduction of a host (from proto/url_hosts) to the
 * name looked up in a SURBL zone: the last two labels ("www.spam.example"
 * -> "spam.example"), or the last three when the top-level label is a
 * two-letter country code and the second-level label is one of the
 * generic second-level labels below ("www.spam.co.jp" -> "spam.co.jp").
 * SURBL's own guidance (surbl.org, "Implementation Guidelines": query the
 * registered domain, using its two-level-tlds and three-level-tlds lists)
 * is a list of several thousand exact suffixes; G-33 states the rule as a
 * set of generic labels instead, and this is that rule with the list:
 *
 *   ac ad co com ed edu go gob gov gr lg ltd mil ne net nom or org plc sch
 *
 * (G-33 and the brief name ac co com ed edu go gov gr lg ne net or org ad;
 * gob, ltd, mil, nom, plc and sch are the other generic labels that recur
 * under many ccTLDs in SURBL's two-level-tlds file: gob.mx, ltd.uk,
 * mil.br, nom.fr, plc.uk, sch.uk ...). Geographic second levels
 * (tokyo.jp) are not in the rule and reduce to two labels.
 *
 * IP literals are not domains (G-33 skips them): an IPv6 literal ("[...]"
 * or anything with ':') and every host whose last label is a number as
 * browsers read IPv4 hosts (WHATWG URL "ends in a number": decimal digits,
 * or "0x" and hex digits), so "1.2.3.4", "0x7f.1", "2130706433" and
 * "10.0.0.0x1" are SURBL_IP (a browser either reaches an address or
 * fails; it never looks such a name up).
 *
 * What it does not do: no I/O, no allocation; the domain is a view into
 * the caller's host, whose case is kept (url_hosts reports lower case;
 * the label comparisons are ASCII case-insensitive).
 */
#ifndef SEKISHO_PROTO_SURBL_DOMAIN_H
#define SEKISHO_PROTO_SURBL_DOMAIN_H

#include "lib/str.h"

enum surbl_host {
    SURBL_DOMAIN = 0, /* *domain is the name to look up */
    SURBL_IP,         /* an address: skipped */
    SURBL_NOT_DOMAIN, /* one label, an empty label, or only a public suffix ("co.jp") */
};

/* surbl_domain - classify host and, for SURBL_DOMAIN, set *domain to its
 * last two or three labels (a trailing dot is ignored). */
enum surbl_host surbl_domain(struct str host, struct str *domain);

#endif

/* http_range - the one Range form the gateway serves itself (RFC 9110 14.2).
 *
 * Why: a scanned object is fetched whole (Range stripped upstream), so two
 * range requests can never deliver an infected object in parts that are
 * each clean (issue 10, item 9); a client that asked for one byte range of
 * it gets that range from the scanned spool. Everything else (several
 * ranges, other units, unsatisfiable or malformed specs) is answered with
 * the whole object, which RFC 9110 allows a server to do. Pure; uses
 * lib/str only.
 */
#ifndef SEKISHO_PROTO_HTTP_RANGE_H
#define SEKISHO_PROTO_HTTP_RANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"

/* http_range_single - value is `bytes=<first>-[<last>]` or `bytes=-<n>`
 * (one range, optional spaces) and is satisfiable for an object of total
 * bytes: true with the inclusive range clipped to the object. */
bool http_range_single(struct str value, uint64_t total, uint64_t *first, uint64_t *last);

#endif

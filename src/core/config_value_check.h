/* config_value_check - what a key's type cannot say about its value.
 *
 * The type column of config_keys.def checks the syntax every key of that
 * type shares (a LIST is ','-separated printable text). A few keys need
 * more before they are a promise the service can keep: an RBL zone must
 * be a DNS name the resolver can query, the spam engine's address must be
 * one the worker can connect to. Those checks are here, one table row per
 * key, and run in the loader's first pass right after the value parsed,
 * so a bad value is refused with the ini file's "file:line" like any
 * other (CFG: a setting is refused at start, not at the first mail).
 */
#ifndef SEKISHO_CORE_CONFIG_VALUE_CHECK_H
#define SEKISHO_CORE_CONFIG_VALUE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

/* config_value_check - the key named key has just been set in cfg;
 * false with the reason in why[cap] when its value is unusable. Keys
 * without a row pass. */
bool config_value_check(const char *key, const struct config *cfg, char *why, size_t cap);

/* config_host_port_parse - "A.A.A.A", "A.A.A.A:PPP", "[v6]" or
 * "[v6]:PPP" (a bare v6 address without brackets too, then without a
 * port) into addr (numeric text, NUL-terminated, at most 45 bytes +
 * NUL) and *port (def_port when none is written). */
bool config_host_port_parse(const char *text, unsigned def_port, char addr[46], unsigned *port);

#endif

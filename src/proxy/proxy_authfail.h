/* proxy_authfail - failed authentications per client address, shared by
 * every worker of a service.
 *
 * "Failed attempts are rate-limited per client address": a table in
 * shared memory (MAP_SHARED, created by the master before it forks the
 * workers, as proxy_slots), so the limit holds for the service whatever
 * worker a guesser's connections land on. PROXY_AUTHFAIL_MAX failures
 * from one address within PROXY_AUTHFAIL_WINDOW_MS block it until
 * PROXY_AUTHFAIL_WINDOW_MS after its last failure; the stalest entry is
 * replaced when the PROXY_AUTHFAIL_SLOTS entries are taken (a flood of
 * addresses costs the others their count, never the service).
 *
 * One process-shared, robust mutex guards the table: a scan of 1024
 * entries, microseconds, on the workers' loops; a worker that dies while
 * holding it leaves the table usable (EOWNERDEAD is made consistent).
 * Addresses are kept as a 64-bit hash of their text (never 0).
 */
#ifndef SEKISHO_PROXY_AUTHFAIL_H
#define SEKISHO_PROXY_AUTHFAIL_H

#include <stdbool.h>
#include <stdint.h>

#define PROXY_AUTHFAIL_MAX       5
#define PROXY_AUTHFAIL_WINDOW_MS 60000u
#define PROXY_AUTHFAIL_SLOTS     1024

struct proxy_authfail;

/* proxy_authfail_new - the shared table; NULL with errno. */
struct proxy_authfail *proxy_authfail_new(void);
void proxy_authfail_free(struct proxy_authfail *t);

/* now_ms is a CLOCK_MONOTONIC time (the same in every process). */
bool proxy_authfail_blocked(struct proxy_authfail *t, const char *ip, uint64_t now_ms);
void proxy_authfail_note(struct proxy_authfail *t, const char *ip, uint64_t now_ms);
void proxy_authfail_clear(struct proxy_authfail *t, const char *ip);

#endif

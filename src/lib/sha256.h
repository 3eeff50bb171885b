/* sha256 - SHA-256 (FIPS 180-4), incremental.
 *
 * Used where a digest must stand for content an attacker may choose: the
 * verdict cache keys scan results by it, so a collision would let a
 * crafted file inherit a clean verdict. The incremental functions are
 * plain portable C without allocation; sha256_digest hashes a buffer held
 * whole through libcrypto, which uses the CPU's SHA extensions (10x the
 * portable code on 60 KB mail attachments, docs/bench.md).
 */
#ifndef SEKISHO_LIB_SHA256_H
#define SEKISHO_LIB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32

struct sha256 {
    uint32_t h[8];
    uint64_t total; /* bytes hashed so far */
    uint8_t block[64];
    size_t fill; /* bytes in block */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, uint8_t out[SHA256_DIGEST_LEN]);

/* sha256_digest - the digest of data[0..len) in one call. */
void sha256_digest(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);

#endif

/* sha256 - SHA-256 digests through libcrypto's streaming EVP interface.
 *
 * Used where a digest must stand for content an attacker may choose: the
 * verdict cache keys scan results by it, so a collision would let a
 * crafted file inherit a clean verdict. libcrypto uses the CPU's SHA
 * extensions where it has them (bench/sha256.sh, docs/bench.md), so the
 * tree has no SHA-256 code of its own.
 *
 * A digest in progress holds a libcrypto context (allocated): every
 * sha256_init is ended by sha256_final or sha256_release. A failure
 * (libcrypto out of memory) makes the digest unusable, never wrong:
 * sha256_final then says so and the caller goes without a digest.
 */
#ifndef SEKISHO_LIB_SHA256_H
#define SEKISHO_LIB_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32

struct evp_md_ctx_st; /* libcrypto's EVP_MD_CTX */

/* Zero-initialised (= {0}) before the first sha256_init. */
struct sha256 {
    struct evp_md_ctx_st *ctx; /* NULL when no digest is in progress */
    bool failed;               /* an update failed: no digest to give */
};

/* sha256_init - start a digest (an unfinished one in c is dropped).
 * 0, or -1 with errno ENOMEM (nothing held then). */
int sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* sha256_final - the digest of every byte given since sha256_init into
 * out, and the context released. 0, or -1 when any step failed (out is
 * then not a digest) or no digest was in progress. */
int sha256_final(struct sha256 *c, uint8_t out[SHA256_DIGEST_LEN]);
/* sha256_release - drop a digest in progress, if any. */
void sha256_release(struct sha256 *c);
/* sha256_digest - the digest of data[0..len) in one call (EVP_Digest).
 * 0, or -1 when libcrypto failed (out is then not a digest). */
int sha256_digest(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);

#endif

/* sha256 - see sha256.h. */
#include "lib/sha256.h"

#include <openssl/evp.h>

#include <errno.h>

int sha256_init(struct sha256 *c)
{
    if (!c->ctx)
        c->ctx = EVP_MD_CTX_new();
    c->failed = false;
    if (c->ctx && EVP_DigestInit_ex(c->ctx, EVP_sha256(), NULL) == 1)
        return 0;
    sha256_release(c);
    errno = ENOMEM;
    return -1;
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
    if (!c->ctx || c->failed || len == 0)
        return;
    if (EVP_DigestUpdate(c->ctx, data, len) != 1)
        c->failed = true;
}

int sha256_final(struct sha256 *c, uint8_t out[SHA256_DIGEST_LEN])
{
    unsigned int n = 0;
    bool ok =
        c->ctx && !c->failed && EVP_DigestFinal_ex(c->ctx, out, &n) == 1 && n == SHA256_DIGEST_LEN;
    sha256_release(c);
    return ok ? 0 : -1;
}

void sha256_release(struct sha256 *c)
{
    EVP_MD_CTX_free(c->ctx); /* NULL is a no-op */
    c->ctx = NULL;
    c->failed = false;
}

int sha256_digest(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN])
{
    unsigned n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == SHA256_DIGEST_LEN ? 0
                                                                                             : -1;
}

/* load_common - helpers the load generators (bench/smtpload.c, popload.c,
 * scanload.c) share, written once.
 *
 * Header-only (static functions): each load generator is one C file
 * compiled by its bench script with a plain `cc`, without the project's
 * build. What is here:
 *   load_errname   errno's symbolic name ("ECONNREFUSED") for the failure tables;
 *   load_rand      xoshiro256** (Blackman & Vigna), seeded with splitmix64 by
 *   load_seed      load_seed: fast, reproducible pseudo-random content.
 */
#ifndef SEKISHO_BENCH_LOAD_COMMON_H
#define SEKISHO_BENCH_LOAD_COMMON_H

#include <stdint.h>
#include <string.h>

static inline const char *load_errname(int err)
{
    const char *name = strerrorname_np(err);
    return name ? name : "error";
}

static inline uint64_t load_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t load_rand(uint64_t s[4])
{
    uint64_t r = load_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = load_rotl(s[3], 45);
    return r;
}

static inline void load_seed(uint64_t s[4], uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        s[i] = z ^ (z >> 31);
    }
}

#endif

/* sha256 bench - throughput of lib/sha256's streaming digest.
 *
 *   bench/sha256.sh [MiB [chunk_bytes]]
 *
 * Hashes MiB (default 1024) of pseudo-random bytes fed in chunk_bytes
 * (default 65536) updates, then 23 KiB objects one digest each (init,
 * update, final: what the verdict cache pays per small download), and
 * prints MB/s (10^6 bytes per second of CPU time, user+system, so other
 * load on the machine counts less than in wall time) and the digest of the
 * stream, which must not depend on the implementation. Figures only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lib/sha256.h"

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
    size_t chunk = argc > 2 ? strtoul(argv[2], NULL, 10) : 65536;
    if (mib == 0 || chunk == 0 || chunk > (64u << 20)) {
        fprintf(stderr, "usage: %s [MiB [chunk_bytes]]\n", argv[0]);
        return 2;
    }
    uint8_t *buf = malloc(chunk);
    if (!buf)
        return 1;
    uint32_t x = 2463534242u; /* xorshift32: bytes that do not compress */
    for (size_t i = 0; i < chunk; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    uint64_t total = (uint64_t)mib << 20;
    struct sha256 c = {0};
    uint8_t d[SHA256_DIGEST_LEN];
    double c0 = cpu_seconds(), w0 = wall_seconds();
    (void)sha256_init(&c);
    for (uint64_t done = 0; done < total; done += chunk)
        sha256_update(&c, buf, total - done < chunk ? (size_t)(total - done) : chunk);
    (void)sha256_final(&c, d);
    double cpu = cpu_seconds() - c0, wall = wall_seconds() - w0;
    printf("stream  %lu MiB in %zu-byte updates: %.0f MB/s cpu (%.2f s cpu, %.2f s wall) ", mib,
           chunk, (double)total / cpu / 1e6, cpu, wall);
    for (int i = 0; i < SHA256_DIGEST_LEN; i++)
        printf("%02x", d[i]);
    printf("\n");

    enum { OBJ = 23 * 1024, OBJECTS = 20000 };
    uint8_t *obj = malloc(OBJ);
    if (!obj)
        return 1;
    for (size_t i = 0; i < OBJ; i++)
        obj[i] = buf[i % chunk];
    c0 = cpu_seconds();
    for (int i = 0; i < OBJECTS; i++) {
        obj[0] = (uint8_t)i;
        (void)sha256_init(&c);
        sha256_update(&c, obj, OBJ);
        (void)sha256_final(&c, d);
    }
    cpu = cpu_seconds() - c0;
    printf("objects %d x 23 KiB, one digest each: %.0f MB/s cpu, %.1f us per object\n", OBJECTS,
           (double)OBJ * OBJECTS / cpu / 1e6, cpu / OBJECTS * 1e6);
    free(obj);
    free(buf);
    return 0;
}

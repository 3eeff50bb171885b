/* fuzz_db_bundle - libFuzzer target for proto/db_bundle.
 *
 * The input is an archive, walked the way dbupdate walks an offline
 * bundle: header, file content skipped (padded to 512), next header,
 * until the end block, a bad header or the end of the input. Each walk is
 * made twice: over the bytes as they are, and with each header's checksum
 * recomputed first, so that the fuzzer gets past the checksum to the
 * fields behind it. A bundle is untrusted input bound for databases/, so
 * a crash, over-read (ASan), UB, a name without its NUL, a BAD without a
 * reason, or a file name accepted here that dbu_db_file_name_ok would
 * refuse is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/db_bundle.h"
#include "proto/dbupdate_conf.h"

static void fix_checksum(uint8_t *b)
{
    unsigned sum = 0;
    memset(b + 148, ' ', 8);
    for (size_t i = 0; i < DB_BUNDLE_BLOCK; i++)
        sum += b[i];
    for (int i = 5; i >= 0; i--, sum >>= 3)
        b[148 + i] = (uint8_t)('0' + (sum & 7));
    b[154] = '\0';
}

static void walk(const uint8_t *data, size_t size, bool fix)
{
    size_t pos = 0;
    while (size - pos >= DB_BUNDLE_BLOCK) {
        /* a copy of exactly one block: ASan sees a read past it */
        uint8_t *block = malloc(DB_BUNDLE_BLOCK);
        if (!block)
            abort();
        memcpy(block, data + pos, DB_BUNDLE_BLOCK);
        pos += DB_BUNDLE_BLOCK;
        if (fix)
            fix_checksum(block);
        struct db_tar_entry e;
        char err[DBU_ERR_MAX];
        enum db_tar_kind k = db_tar_header_parse(block, &e, err, sizeof(err));
        free(block);
        if (k != e.kind || strnlen(e.name, sizeof(e.name)) >= sizeof(e.name))
            abort();
        if (k == DB_TAR_END)
            return;
        if (k == DB_TAR_BAD) {
            if (err[0] == '\0' || strnlen(err, sizeof(err)) >= sizeof(err))
                abort();
            return;
        }
        if (k != DB_TAR_FILE && k != DB_TAR_DIR)
            abort();
        if (e.name[0] == '\0' || e.size > INT64_MAX || (k == DB_TAR_DIR && e.size != 0))
            abort();
        const char *fn = db_tar_file_name(&e, err, sizeof(err));
        if (fn) {
            if (fn < e.name || fn > e.name + strlen(e.name))
                abort();
            if (k == DB_TAR_DIR && fn[0] != '\0')
                abort();
            if (k == DB_TAR_FILE && (!dbu_db_file_name_ok(fn, strlen(fn)) || strchr(fn, '/')))
                abort();
        } else if (err[0] == '\0') {
            abort();
        }
        if (k == DB_TAR_FILE) {
            uint64_t blocks = (e.size + DB_BUNDLE_BLOCK - 1) / DB_BUNDLE_BLOCK;
            if (blocks > (size - pos) / DB_BUNDLE_BLOCK)
                return; /* truncated bundle */
            pos += (size_t)blocks * DB_BUNDLE_BLOCK;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    walk(data, size, false);
    walk(data, size, true);
    return 0;
}

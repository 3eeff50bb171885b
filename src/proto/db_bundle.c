/* db_bundle - tar headers of an offline definitions bundle (see db_bundle.h).
 *
 * Field offsets are those of POSIX ustar (pax(1), "ustar Interchange
 * Format"); old GNU headers share them up to the magic, and keep atime,
 * ctime and sparse data where ustar has its name prefix, so the prefix is
 * only read for ustar magic.
 */
#include "proto/db_bundle.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/str.h"
#include "proto/dbupdate_conf.h"

enum {
    OFF_NAME = 0,
    LEN_NAME = 100,
    OFF_MODE = 100,
    OFF_UID = 108,
    OFF_GID = 116,
    OFF_SIZE = 124,
    OFF_MTIME = 136,
    OFF_CHKSUM = 148,
    LEN_CHKSUM = 8,
    OFF_TYPE = 156,
    OFF_MAGIC = 257, /* magic[6] version[2] */
    OFF_PREFIX = 345,
    LEN_PREFIX = 155,
};

/* SHOWN - a member name in a reason: at most 100 bytes of it, then "..."
 * so that a reason always fits DBU_ERR_MAX whatever the name. */
#define SHOWN_MAX        100
#define SHOWN_FMT        "'%.*s%s'"
#define SHOWN_ARGS(name) (int)SHOWN_MAX, (name), strlen(name) > SHOWN_MAX ? "..." : ""

enum num_result { NUM_OK, NUM_BAD, NUM_NEGATIVE, NUM_TOO_BIG };

/* parse_num - a numeric header field of len bytes: optional leading
 * blanks, octal digits, then only NUL or blanks (a field full of digits
 * has no terminator); all NUL or blanks reads as 0, as tar does. With
 * base256, GNU's binary form too: first byte 0x80 (positive) or 0xff
 * (negative), the rest a big-endian number. Values above INT64_MAX are
 * NUM_TOO_BIG. */
static enum num_result parse_num(const uint8_t *f, size_t len, bool base256, uint64_t *out)
{
    *out = 0;
    if (base256 && (f[0] & 0x80)) {
        if (f[0] & 0x40)
            return NUM_NEGATIVE;
        uint64_t v = f[0] & 0x3f;
        for (size_t i = 1; i < len; i++) {
            if (v > (UINT64_C(0x7fffffffffffffff) >> 8))
                return NUM_TOO_BIG;
            v = (v << 8) | f[i];
        }
        *out = v;
        return NUM_OK;
    }
    size_t i = 0;
    while (i < len && f[i] == ' ')
        i++;
    uint64_t v = 0;
    for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
        /* 12 octal digits make at most 36 bits: no overflow possible */
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    for (; i < len; i++)
        if (f[i] != '\0' && f[i] != ' ')
            return NUM_BAD;
    *out = v;
    return NUM_OK;
}

static const char *type_name(uint8_t t)
{
    switch (t) {
    case '1':
        return "hard link";
    case '2':
        return "symbolic link";
    case '3':
        return "character device";
    case '4':
        return "block device";
    case '6':
        return "FIFO";
    case '7':
        return "contiguous file";
    case 'L':
        return "GNU long name";
    case 'K':
        return "GNU long link name";
    case 'x':
        return "pax extended header";
    case 'g':
        return "pax global header";
    case 'S':
        return "GNU sparse file";
    case 'V':
        return "volume label";
    case 'M':
        return "GNU multi-volume continuation";
    case 'D':
        return "GNU dump directory";
    case 'N':
        return "GNU old long name";
    }
    return NULL;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

/* copy_field - the bytes of a NUL-padded field up to its first NUL. */
static size_t copy_field(char *dst, const uint8_t *f, size_t len)
{
    size_t n = 0;
    while (n < len && f[n] != '\0')
        n++;
    memcpy(dst, f, n);
    return n;
}

enum db_tar_kind db_tar_header_parse(const uint8_t block[DB_BUNDLE_BLOCK], struct db_tar_entry *e,
                                     char *err, size_t errcap)
{
    memset(e, 0, sizeof(*e));
    e->kind = DB_TAR_BAD;
    if (errcap > 0 && err)
        err[0] = '\0';
    if (all_zero(block, DB_BUNDLE_BLOCK)) {
        e->kind = DB_TAR_END;
        return DB_TAR_END;
    }

    uint64_t want;
    if (parse_num(block + OFF_CHKSUM, LEN_CHKSUM, false, &want) != NUM_OK ||
        all_zero(block + OFF_CHKSUM, LEN_CHKSUM)) {
        str_format(err, errcap, "not a tar header (bad checksum field)");
        return DB_TAR_BAD;
    }
    uint64_t usum = 0;
    int64_t ssum = 0;
    for (size_t i = 0; i < DB_BUNDLE_BLOCK; i++) {
        uint8_t b = (i >= OFF_CHKSUM && i < OFF_CHKSUM + LEN_CHKSUM) ? ' ' : block[i];
        usum += b;
        ssum += (int8_t)b;
    }
    if (want != usum && (int64_t)want != ssum) {
        str_format(err, errcap, "bad tar header checksum");
        return DB_TAR_BAD;
    }

    const uint8_t *magic = block + OFF_MAGIC;
    bool ustar = memcmp(magic,
                        "ustar\0"
                        "00",
                        8) == 0;
    bool gnu = memcmp(magic, "ustar  \0", 8) == 0;
    if (!ustar && !gnu && !all_zero(magic, 8)) {
        str_format(err, errcap, "unknown tar format (magic)");
        return DB_TAR_BAD;
    }

    static const struct {
        const char *name;
        size_t off, len;
        bool base256;
    } nums[] = {
        {"mode", OFF_MODE, 8, false}, {"uid", OFF_UID, 8, true},      {"gid", OFF_GID, 8, true},
        {"size", OFF_SIZE, 12, true}, {"mtime", OFF_MTIME, 12, true},
    };
    uint64_t size = 0;
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        uint64_t v;
        enum num_result r = parse_num(block + nums[i].off, nums[i].len, nums[i].base256, &v);
        bool is_size = nums[i].off == OFF_SIZE;
        if (r == NUM_BAD || (is_size && r != NUM_OK)) {
            str_format(err, errcap, "bad %s field in tar header%s", nums[i].name,
                       r == NUM_NEGATIVE  ? " (negative)"
                       : r == NUM_TOO_BIG ? " (too large)"
                                          : "");
            return DB_TAR_BAD;
        }
        if (is_size)
            size = v;
    }

    if (block[OFF_NAME] == '\0') {
        str_format(err, errcap, "empty name in tar header");
        return DB_TAR_BAD;
    }
    size_t n = 0;
    if (ustar && block[OFF_PREFIX] != '\0') {
        n = copy_field(e->name, block + OFF_PREFIX, LEN_PREFIX);
        e->name[n++] = '/';
    }
    n += copy_field(e->name + n, block + OFF_NAME, LEN_NAME);
    e->name[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)e->name[i];
        if (c < 0x20 || c == 0x7f) {
            e->name[0] = '\0';
            str_format(err, errcap, "control character in a tar member name");
            return DB_TAR_BAD;
        }
    }

    uint8_t type = block[OFF_TYPE];
    enum db_tar_kind kind;
    if (type == '5' || ((type == '0' || type == '\0') && e->name[n - 1] == '/')) {
        kind = DB_TAR_DIR;
    } else if (type == '0' || type == '\0') {
        kind = DB_TAR_FILE;
    } else {
        const char *what = type_name(type);
        if (what)
            str_format(err, errcap, SHOWN_FMT ": %s in the bundle (only plain files are accepted)",
                       SHOWN_ARGS(e->name), what);
        else if (type > 0x20 && type < 0x7f)
            str_format(err, errcap, SHOWN_FMT ": unknown tar entry type '%c'", SHOWN_ARGS(e->name),
                       type);
        else
            str_format(err, errcap, SHOWN_FMT ": unknown tar entry type 0x%02x",
                       SHOWN_ARGS(e->name), type);
        return DB_TAR_BAD;
    }
    if (kind == DB_TAR_DIR && size != 0) {
        str_format(err, errcap, SHOWN_FMT ": directory with a non-zero size", SHOWN_ARGS(e->name));
        return DB_TAR_BAD;
    }
    e->size = kind == DB_TAR_FILE ? size : 0;
    e->kind = kind;
    return kind;
}

const char *db_tar_file_name(const struct db_tar_entry *e, char *err, size_t errcap)
{
    if (errcap > 0 && err)
        err[0] = '\0';
    size_t len = strnlen(e->name, sizeof(e->name));
    if (len == sizeof(e->name)) {
        str_format(err, errcap, "tar member name not terminated");
        return NULL;
    }
    const char *name = e->name;
    if (name[0] == '/') {
        str_format(err, errcap, SHOWN_FMT ": absolute name in the bundle", SHOWN_ARGS(name));
        return NULL;
    }
    for (size_t start = 0; start <= len;) {
        const char *slash = memchr(name + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - name) : len;
        if (end - start == 2 && name[start] == '.' && name[start + 1] == '.') {
            str_format(err, errcap, SHOWN_FMT ": '..' in a name in the bundle", SHOWN_ARGS(name));
            return NULL;
        }
        start = end + 1;
    }
    const char *p = name;
    while (p[0] == '.' && p[1] == '/')
        p += 2;
    size_t plen = len - (size_t)(p - name);
    if (e->kind == DB_TAR_DIR) {
        if (plen == 0 || (plen == 1 && p[0] == '.'))
            return name + len;
        str_format(err, errcap,
                   SHOWN_FMT
                   ": subdirectory in the bundle (database files must be at its top level)",
                   SHOWN_ARGS(name));
        return NULL;
    }
    if (e->kind != DB_TAR_FILE) {
        str_format(err, errcap, "not a file entry");
        return NULL;
    }
    if (plen == 0) {
        str_format(err, errcap, SHOWN_FMT ": empty file name in the bundle", SHOWN_ARGS(name));
        return NULL;
    }
    if (memchr(p, '/', plen)) {
        str_format(err, errcap,
                   SHOWN_FMT ": file in a subdirectory of the bundle (database files must be at "
                             "its top level)",
                   SHOWN_ARGS(name));
        return NULL;
    }
    if (!dbu_db_file_name_ok(p, plen)) {
        str_format(err, errcap, SHOWN_FMT ": not a database file name", SHOWN_ARGS(p));
        return NULL;
    }
    return p;
}

/* Unit tests for proto/db_bundle: the tar headers of an offline bundle
 * (KB-7). Two sources of headers: blocks built here field by field (every
 * type, magic, numeric form and checksum case, at the limits), and real
 * archives written by GNU tar 1.34 into tests/data/db_bundle/ by its
 * make.sh (ustar with "./" names, gnu with a symlink, ustar with
 * "../x.ndb" and a prefix-split long path, pax with an extended header),
 * walked header by header the way dbupdate walks a bundle. Each block is
 * parsed from a heap copy of exactly 512 bytes, so ASan sees an over-read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/db_bundle.h"
#include "proto/dbupdate_conf.h"

static char err[DBU_ERR_MAX];
static struct db_tar_entry ent;

enum magic { M_USTAR, M_GNU, M_V7 };

/* hdr - a header block as tar writes it: octal fields ended by NUL, the
 * checksum as "%06o\0 ", ustar or GNU magic or none. */
static void hdr(uint8_t b[DB_BUNDLE_BLOCK], const char *name, char type, uint64_t size,
                enum magic m)
{
    memset(b, 0, DB_BUNDLE_BLOCK);
    memcpy(b, name, strnlen(name, 100));
    snprintf((char *)b + 100, 8, "%07o", 0644);
    snprintf((char *)b + 108, 8, "%07o", 0);
    snprintf((char *)b + 116, 8, "%07o", 0);
    snprintf((char *)b + 124, 12, "%011llo", (unsigned long long)size);
    snprintf((char *)b + 136, 12, "%011o", 0);
    b[156] = (uint8_t)type;
    if (m == M_USTAR)
        memcpy(b + 257,
               "ustar\0"
               "00",
               8);
    else if (m == M_GNU)
        memcpy(b + 257, "ustar  \0", 8);
}

static void checksum(uint8_t b[DB_BUNDLE_BLOCK])
{
    unsigned sum = 0;
    memset(b + 148, ' ', 8);
    for (size_t i = 0; i < DB_BUNDLE_BLOCK; i++)
        sum += b[i];
    snprintf((char *)b + 148, 8, "%06o", sum);
    b[155] = ' ';
}

static enum db_tar_kind parse(const uint8_t b[DB_BUNDLE_BLOCK])
{
    uint8_t *copy = malloc(DB_BUNDLE_BLOCK);
    assert_non_null(copy);
    memcpy(copy, b, DB_BUNDLE_BLOCK);
    err[0] = '\0';
    enum db_tar_kind k = db_tar_header_parse(copy, &ent, err, sizeof(err));
    free(copy);
    assert_int_equal(k, ent.kind);
    if (k == DB_TAR_BAD && err[0] == '\0')
        fail_msg("BAD without a reason");
    return k;
}

static void expect_bad(const uint8_t b[DB_BUNDLE_BLOCK], const char *word)
{
    if (parse(b) != DB_TAR_BAD)
        fail_msg("accepted (kind %d, name '%s'), wanted \"%s\"", ent.kind, ent.name, word);
    if (!strstr(err, word))
        fail_msg("wanted \"%s\", got \"%s\"", word, err);
}

/* ---- headers built here ------------------------------------------------ */

static void test_end_block(void **state)
{
    (void)state;
    uint8_t b[DB_BUNDLE_BLOCK] = {0};
    assert_int_equal(parse(b), DB_TAR_END);
    /* one non-zero byte anywhere makes it a (bad) header */
    b[511] = 1;
    expect_bad(b, "checksum");
}

static void test_regular_files(void **state)
{
    (void)state;
    uint8_t b[DB_BUNDLE_BLOCK];
    static const enum magic ms[] = {M_USTAR, M_GNU, M_V7};
    for (size_t i = 0; i < 3; i++) {
        hdr(b, "daily.cld", '0', 1234567, ms[i]);
        checksum(b);
        assert_int_equal(parse(b), DB_TAR_FILE);
        assert_string_equal(ent.name, "daily.cld");
        assert_int_equal(ent.size, 1234567);
        /* the old regular-file type, NUL */
        hdr(b, "x.ndb", '\0', 0, ms[i]);
        checksum(b);
        assert_int_equal(parse(b), DB_TAR_FILE);
        assert_int_equal(ent.size, 0);
    }
}

static void test_directories(void **state)
{
    (void)state;
    uint8_t b[DB_BUNDLE_BLOCK];
    hdr(b, "./", '5', 0, M_USTAR);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_DIR);
    assert_string_equal(ent.name, "./");
    assert_int_equal(ent.size, 0);
    /* a regular file named with a trailing '/' is a directory, as in tar */
    hdr(b, "old/", '0', 0, M_V7);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_DIR);
    /* a directory carries no content: a size would desynchronise the walk */
    hdr(b, "d/", '5', 512, M_USTAR);
    checksum(b);
    expect_bad(b, "'d/': directory with a non-zero size");
    hdr(b, "d/", '0', 1, M_GNU);
    checksum(b);
    expect_bad(b, "directory with a non-zero size");
}

static void test_checksum(void **state)
{
    (void)state;
    uint8_t b[DB_BUNDLE_BLOCK];
    hdr(b, "a.ndb", '0', 10, M_USTAR);
    checksum(b);
    b[0] = 'b'; /* one byte changed after the sum */
    expect_bad(b, "bad tar header checksum");
    /* the checksum field itself: not octal, empty, all blanks */
    hdr(b, "a.ndb", '0', 10, M_USTAR);
    checksum(b);
    b[150] = '9';
    expect_bad(b, "bad checksum field");
    memset(b + 148, 0, 8);
    expect_bad(b, "bad checksum field");
    memset(b + 148, ' ', 8);
    expect_bad(b, "bad tar header checksum");
    /* 7 digits and NUL (no blank) and leading blanks are read too */
    hdr(b, "a.ndb", '0', 10, M_USTAR);
    checksum(b);
    unsigned sum = (unsigned)strtoul((char *)b + 148, NULL, 8);
    snprintf((char *)b + 148, 8, "%07o", sum);
    assert_int_equal(parse(b), DB_TAR_FILE);
    snprintf((char *)b + 148, 8, "  %04o", sum);
    b[155] = ' ';
    assert_int_equal(parse(b), DB_TAR_FILE);
    /* high bytes in the name: a sum over signed bytes (old tars) is also
     * accepted, and so is the POSIX unsigned one */
    hdr(b, "\xe4\xf6.ndb", '0', 1, M_USTAR);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    int ssum = 0;
    memset(b + 148, ' ', 8);
    for (size_t i = 0; i < DB_BUNDLE_BLOCK; i++)
        ssum += (int8_t)b[i];
    snprintf((char *)b + 148, 8, "%06o", ssum);
    b[155] = ' ';
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_string_equal(ent.name, "\xe4\xf6.ndb");
}

static void test_numeric_fields(void **state)
{
    (void)state;
    uint8_t b[DB_BUNDLE_BLOCK];
    /* 11 octal digits: the largest ustar size, 8 GiB - 1 */
    hdr(b, "big.cvd", '0', 077777777777ULL, M_USTAR);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_int_equal(ent.size, 077777777777ULL);
    /* 12 digits filling the field, no terminator */
    hdr(b, "big.cvd", '0', 0, M_GNU);
    memcpy(b + 124, "777777777777", 12);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_int_equal(ent.size, (UINT64_C(1) << 36) - 1);
    /* leading and trailing blanks, as old tars pad */
    hdr(b, "a.ndb", '0', 0, M_V7);
    memcpy(b + 124, "     1750 \0", 11);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_int_equal(ent.size, 01750);
    /* GNU base-256: 0x80 then a big-endian number */
    hdr(b, "huge.cvd", '0', 0, M_GNU);
    memset(b + 124, 0, 12);
    b[124] = 0x80;
    b[126] = 0x01; /* 2^72 is too large ... */
    checksum(b);
    expect_bad(b, "bad size field in tar header (too large)");
    b[126] = 0;
    b[131] = 0x02; /* 2 * 2^32 */
    b[135] = 0x05;
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_int_equal(ent.size, (UINT64_C(2) << 32) + 5);
    /* INT64_MAX is the largest accepted size */
    memset(b + 124, 0, 12);
    b[124] = 0x80;
    b[128] = 0x7f;
    memset(b + 129, 0xff, 7);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_int_equal(ent.size, INT64_MAX);
    b[128] = 0x80;
    memset(b + 129, 0, 7);
    checksum(b);
    expect_bad(b, "(too large)");
    /* negative (0xff...) */
    memset(b + 124, 0xff, 12);
    checksum(b);
    expect_bad(b, "bad size field in tar header (negative)");
    /* non-octal digits, in each checked field */
    static const struct {
        size_t off;
        const char *name;
    } fields[] = {{100, "mode"}, {108, "uid"}, {116, "gid"}, {124, "size"}, {136, "mtime"}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        char want[64];
        snprintf(want, sizeof(want), "bad %s field in tar header", fields[i].name);
        hdr(b, "a.ndb", '0', 8, M_USTAR);
        b[fields[i].off + 3] = '8';
        checksum(b);
        expect_bad(b, want);
        hdr(b, "a.ndb", '0', 8, M_USTAR);
        b[fields[i].off + 1] = 'x';
        checksum(b);
        expect_bad(b, want);
        hdr(b, "a.ndb", '0', 8, M_USTAR);
        b[fields[i].off + 6] = '\0';
        b[fields[i].off + 3] = ' ';
        checksum(b);
        expect_bad(b, want); /* a blank between digits */
    }
    /* base-256 uid, gid and mtime (big ids, dates before 1970) are fine,
     * a base-256 mode is not */
    hdr(b, "a.ndb", '0', 3, M_GNU);
    memset(b + 108, 0, 8);
    b[108] = 0x80;
    b[115] = 0x42;
    memset(b + 136, 0xff, 12);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_int_equal(ent.size, 3);
    b[100] = 0x80;
    checksum(b);
    expect_bad(b, "bad mode field");
    /* empty (all NUL) fields read as 0 */
    hdr(b, "a.ndb", '0', 0, M_V7);
    memset(b + 100, 0, 48);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_int_equal(ent.size, 0);
}

static void test_types_refused_by_name(void **state)
{
    (void)state;
    static const struct {
        char type;
        const char *what;
    } types[] = {
        {'1', "hard link"},
        {'2', "symbolic link"},
        {'3', "character device"},
        {'4', "block device"},
        {'6', "FIFO"},
        {'7', "contiguous file"},
        {'L', "GNU long name"},
        {'K', "GNU long link name"},
        {'x', "pax extended header"},
        {'g', "pax global header"},
        {'S', "GNU sparse file"},
        {'V', "volume label"},
        {'M', "GNU multi-volume continuation"},
        {'D', "GNU dump directory"},
        {'N', "GNU old long name"},
    };
    uint8_t b[DB_BUNDLE_BLOCK];
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char want[128];
        snprintf(want, sizeof(want), "'evil.ndb': %s in the bundle", types[i].what);
        hdr(b, "evil.ndb", types[i].type, 0, M_USTAR);
        checksum(b);
        expect_bad(b, want);
    }
    hdr(b, "evil.ndb", 'Z', 0, M_USTAR);
    checksum(b);
    expect_bad(b, "'evil.ndb': unknown tar entry type 'Z'");
    hdr(b, "evil.ndb", '\x01', 0, M_USTAR);
    checksum(b);
    expect_bad(b, "unknown tar entry type 0x01");
    hdr(b, "evil.ndb", '\xc8', 0, M_USTAR);
    checksum(b);
    expect_bad(b, "unknown tar entry type 0xc8");
}

static void test_magic_and_names(void **state)
{
    (void)state;
    uint8_t b[DB_BUNDLE_BLOCK];
    /* ustar: prefix "/" name, both fields full (no NUL): 256 bytes */
    hdr(b, "", '0', 1, M_USTAR);
    memset(b, 'n', 100);
    memset(b + 345, 'p', 155);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_int_equal(strlen(ent.name), 256);
    assert_int_equal(ent.name[155], '/');
    assert_int_equal(ent.name[154], 'p');
    assert_int_equal(ent.name[156], 'n');
    hdr(b, "deep.ndb", '0', 1, M_USTAR);
    memcpy(b + 345, "some/dir", 8);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_string_equal(ent.name, "some/dir/deep.ndb");
    /* old GNU keeps atime there: not a prefix */
    hdr(b, "gnu.ndb", '0', 1, M_GNU);
    memcpy(b + 345, "12345670123", 11);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_string_equal(ent.name, "gnu.ndb");
    /* v7: nothing after the link name */
    hdr(b, "v7.ndb", '0', 1, M_V7);
    checksum(b);
    assert_int_equal(parse(b), DB_TAR_FILE);
    assert_string_equal(ent.name, "v7.ndb");
    /* any other magic */
    static const char *const magics[] = {"ustar\0"
                                         "  ",
                                         "ustar \0\0",
                                         "USTAR\0"
                                         "00",
                                         "ustar\0"
                                         "01",
                                         "\0\0\0\0\0\0\0x"};
    for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
        hdr(b, "m.ndb", '0', 1, M_V7);
        memcpy(b + 257, magics[i], 8);
        checksum(b);
        expect_bad(b, "unknown tar format (magic)");
    }
    /* empty name, even with a prefix; control bytes in the name */
    hdr(b, "", '0', 1, M_USTAR);
    checksum(b);
    expect_bad(b, "empty name in tar header");
    memcpy(b + 345, "dir", 3);
    checksum(b);
    expect_bad(b, "empty name in tar header");
    hdr(b, "a\nb.ndb", '0', 1, M_USTAR);
    checksum(b);
    expect_bad(b, "control character in a tar member name");
    assert_string_equal(ent.name, ""); /* the bad name is not handed out */
    hdr(b, "ok.ndb", '0', 1, M_USTAR);
    memcpy(b + 345, "d\x7f", 2);
    checksum(b);
    expect_bad(b, "control character");
}

/* ---- db_tar_file_name -------------------------------------------------- */

static const char *file_name(const char *name, enum db_tar_kind kind)
{
    memset(&ent, 0, sizeof(ent));
    ent.kind = kind;
    snprintf(ent.name, sizeof(ent.name), "%s", name);
    err[0] = '\0';
    const char *r = db_tar_file_name(&ent, err, sizeof(err));
    if (r)
        assert_true(r >= ent.name && r <= ent.name + strlen(ent.name));
    else if (err[0] == '\0')
        fail_msg("NULL without a reason for '%s'", name);
    return r;
}

static void name_bad(const char *name, enum db_tar_kind kind, const char *word)
{
    const char *r = file_name(name, kind);
    if (r)
        fail_msg("'%s' gave '%s', wanted \"%s\"", name, r, word);
    if (!strstr(err, word))
        fail_msg("'%s': wanted \"%s\", got \"%s\"", name, word, err);
}

static void test_file_names(void **state)
{
    (void)state;
    assert_string_equal(file_name("daily.cvd", DB_TAR_FILE), "daily.cvd");
    assert_ptr_equal(file_name("./daily.cvd", DB_TAR_FILE), ent.name + 2);
    assert_string_equal(file_name("././local.ndb", DB_TAR_FILE), "local.ndb");
    name_bad(".x.ndb", DB_TAR_FILE, "'.x.ndb': not a database file name");
    name_bad("../x.ndb", DB_TAR_FILE, "'../x.ndb': '..' in a name in the bundle");
    name_bad("./../x.ndb", DB_TAR_FILE, "'..'");
    name_bad("a/../x.ndb", DB_TAR_FILE, "'..'");
    name_bad("x.ndb/..", DB_TAR_FILE, "'..'");
    name_bad("..", DB_TAR_FILE, "'..'");
    name_bad("/x.ndb", DB_TAR_FILE, "'/x.ndb': absolute name");
    name_bad("/etc/passwd", DB_TAR_FILE, "absolute name");
    name_bad("sub/x.ndb", DB_TAR_FILE, "'sub/x.ndb': file in a subdirectory");
    name_bad("./sub/x.ndb", DB_TAR_FILE, "file in a subdirectory");
    name_bad(".//x.ndb", DB_TAR_FILE, "file in a subdirectory");
    name_bad("x.txt", DB_TAR_FILE, "'x.txt': not a database file name");
    name_bad("./README", DB_TAR_FILE, "'README': not a database file name");
    name_bad(".", DB_TAR_FILE, "not a database file name");
    name_bad("./", DB_TAR_FILE, "empty file name");
    /* the top directory is fine, in each spelling; other ones are not */
    assert_string_equal(file_name("./", DB_TAR_DIR), "");
    assert_string_equal(file_name(".", DB_TAR_DIR), "");
    assert_string_equal(file_name("././", DB_TAR_DIR), "");
    assert_string_equal(file_name("./.", DB_TAR_DIR), "");
    name_bad("databases/", DB_TAR_DIR, "'databases/': subdirectory in the bundle");
    name_bad("./sub", DB_TAR_DIR, "subdirectory");
    name_bad("../", DB_TAR_DIR, "'..'");
    name_bad("/", DB_TAR_DIR, "absolute name");
    name_bad("x.ndb", DB_TAR_END, "not a file entry");
    /* a name of the longest form is handled (and refused: it has a '/') */
    char longname[257];
    memset(longname, 'p', 256);
    longname[155] = '/';
    longname[256] = '\0';
    name_bad(longname, DB_TAR_FILE, "file in a subdirectory");
}

/* ---- archives written by GNU tar ---------------------------------------- */

/* fixture - tests/data/db_bundle/<name>, found beside the sources (the
 * suite runs from the repository root, __FILE__ is relative to it). */
static uint8_t *fixture(const char *name, size_t *len)
{
    char path[512];
    const char *me = __FILE__;
    const char *cut = strstr(me, "tests/unit/");
    snprintf(path, sizeof(path), "%.*stests/data/db_bundle/%s", cut ? (int)(cut - me) : 0, me,
             name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static uint8_t buf[65536];
    *len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_int_equal(*len % DB_BUNDLE_BLOCK, 0);
    uint8_t *copy = malloc(*len);
    assert_non_null(copy);
    memcpy(copy, buf, *len);
    return copy;
}

/* walk - the archive as dbupdate reads it, one line per header:
 *   "D <name> -> <file name>|"         directory
 *   "F <name> <size> -> <file name>|" followed by the content, or
 *   "F <name> <size> !<reason>|"      when db_tar_file_name refuses
 *   "B <reason>|"                     stops the walk
 *   "E|"                              end; the rest must be zero blocks
 * contents receives the contents of the files, '|'-separated. */
static void walk(const char *fixture_name, char *out, size_t cap, char *contents, size_t ccap)
{
    size_t len;
    uint8_t *a = fixture(fixture_name, &len);
    size_t pos = 0, n = 0, cn = 0;
    out[0] = contents[0] = '\0';
    while (pos + DB_BUNDLE_BLOCK <= len) {
        enum db_tar_kind k = parse(a + pos);
        pos += DB_BUNDLE_BLOCK;
        if (k == DB_TAR_END) {
            n += (size_t)snprintf(out + n, cap - n, "E|");
            for (; pos < len; pos++)
                assert_int_equal(a[pos], 0);
            break;
        }
        if (k == DB_TAR_BAD) {
            n += (size_t)snprintf(out + n, cap - n, "B %s|", err);
            break;
        }
        const char *fn = db_tar_file_name(&ent, err, sizeof(err));
        if (k == DB_TAR_DIR) {
            n += (size_t)snprintf(out + n, cap - n, "D %s -> %s|", ent.name, fn ? fn : err);
            continue;
        }
        n += (size_t)snprintf(out + n, cap - n, "F %s %llu %s%s|", ent.name,
                              (unsigned long long)ent.size, fn ? "-> " : "!", fn ? fn : err);
        assert_true(ent.size <= len - pos);
        cn += (size_t)snprintf(contents + cn, ccap - cn, "%.*s|", (int)ent.size, a + pos);
        pos += (ent.size + DB_BUNDLE_BLOCK - 1) / DB_BUNDLE_BLOCK * DB_BUNDLE_BLOCK;
        assert_true(n < cap && cn < ccap);
    }
    free(a);
}

static void test_gnu_tar_ustar(void **state)
{
    (void)state;
    char out[2048], contents[2048];
    walk("good_ustar.tar", out, sizeof(out), contents, sizeof(contents));
    assert_string_equal(out, "D ./ -> |"
                             "F ./daily.ndb 40 -> daily.ndb|"
                             "F ./local.hdb 54 -> local.hdb|"
                             "E|");
    assert_string_equal(contents, "Sekisho.Test.Daily:0:*:5345_4b495348_4f\n|"
                                  "44d88612fea8a8f36de82e1278abb02f:68:Sekisho.Test.Hash\n|");
}

static void test_gnu_tar_symlink(void **state)
{
    (void)state;
    char out[2048], contents[2048];
    walk("gnu_symlink.tar", out, sizeof(out), contents, sizeof(contents));
    assert_string_equal(out, "F test.ndb 28 -> test.ndb|"
                             "B 'link.ndb': symbolic link in the bundle (only plain files are "
                             "accepted)|");
    assert_string_equal(contents, "Sekisho.Test.Sym:0:*:73796d\n|");
}

static void test_gnu_tar_unsafe_names(void **state)
{
    (void)state;
    char out[2048], contents[2048];
    walk("ustar_unsafe.tar", out, sizeof(out), contents, sizeof(contents));
    /* the headers are fine, the names are not */
    assert_string_equal(
        out, "F ../x.ndb 25 !'../x.ndb': '..' in a name in the bundle|"
             "F a123456789/b123456789/c123456789/d123456789/e123456789/f123456789/"
             "g123456789/h123456789/i123456789/deep.ndb 31 !'a123456789/b123456789/"
             "c123456789/d123456789/e123456789/f123456789/g123456789/h123456789/"
             "i123456789/d...': file in a subdirectory of the bundle (database files must be at "
             "its top level)|"
             "E|");
    assert_string_equal(contents, "Sekisho.Test.Up:0:*:7570\n|Sekisho.Test.Deep:0:*:64656570\n|");
}

static void test_gnu_tar_pax(void **state)
{
    (void)state;
    char out[2048], contents[2048];
    walk("pax.tar", out, sizeof(out), contents, sizeof(contents));
    assert_string_equal(out, "B './PaxHeaders/pax.ndb': pax extended header in the bundle (only "
                             "plain files are accepted)|");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_end_block),
        cmocka_unit_test(test_regular_files),
        cmocka_unit_test(test_directories),
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_numeric_fields),
        cmocka_unit_test(test_types_refused_by_name),
        cmocka_unit_test(test_magic_and_names),
        cmocka_unit_test(test_file_names),
        cmocka_unit_test(test_gnu_tar_ustar),
        cmocka_unit_test(test_gnu_tar_symlink),
        cmocka_unit_test(test_gnu_tar_unsafe_names),
        cmocka_unit_test(test_gnu_tar_pax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

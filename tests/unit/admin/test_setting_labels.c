/* Unit tests for src/admin/setting_labels.def, the labels and Japanese help
 * of the console's Proxy settings pages, against core/config_keys.def: a
 * page that misses a key the service acts on hides a setting from the
 * administrator, and a row for a key the service ignores offers a setting
 * the loader refuses (a setting is a promise). Checked: every row names a
 * key by its own spelling that is built on the row's page; every built key
 * of every page has exactly one row; no text is empty, the Japanese help is
 * Japanese (valid UTF-8, not the English doc, no spec references); every
 * group a row uses is defined; each page's groups come in SETTING_GROUP
 * order, each group's rows together; labels within a group of a page are
 * distinct; a key has the same labels and help on every page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "core/config.h"

struct group_row {
    const char *id, *en, *ja;
};

struct label_row {
    const char *key;
    enum service svc;
    const char *page, *group, *en, *ja, *help_ja;
};

static const struct group_row groups[] = {
#define SETTING_GROUP(id, en, ja) {#id, en, ja},
#include "admin/setting_labels.def"
};

static const struct label_row rows[] = {
#define SETTING_LABEL(key, page, group, en, ja, help_ja)                                           \
    {#key, SVC_##page, #page, #group, en, ja, help_ja},
#include "admin/setting_labels.def"
};

#define N_GROUPS (sizeof(groups) / sizeof(groups[0]))
#define N_ROWS   (sizeof(rows) / sizeof(rows[0]))

static const enum service pages[] = {SVC_HTTP, SVC_SMTP, SVC_POP, SVC_FTP, SVC_COMMON};

/* group_index - position of the SETTING_GROUP row id, or -1. */
static int group_index(const char *id)
{
    for (size_t i = 0; i < N_GROUPS; i++)
        if (strcmp(groups[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* blank - NULL, empty or only ASCII blanks. */
static bool blank(const char *s)
{
    if (!s)
        return true;
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

/* utf8_japanese - s is valid UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF) and has at least one kana or CJK ideograph. */
static bool utf8_japanese(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    bool japanese = false;
    while (*s) {
        uint32_t cp;
        size_t n;
        if (*s < 0x80) {
            cp = *s;
            n = 1;
        } else if ((*s & 0xe0) == 0xc0) {
            cp = *s & 0x1fu;
            n = 2;
        } else if ((*s & 0xf0) == 0xe0) {
            cp = *s & 0x0fu;
            n = 3;
        } else if ((*s & 0xf8) == 0xf0) {
            cp = *s & 0x07u;
            n = 4;
        } else {
            return false;
        }
        for (size_t i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3fu);
        }
        static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        if ((cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x4e00 && cp <= 0x9fff))
            japanese = true;
        s += n;
    }
    return japanese;
}

static void test_every_row_is_a_built_key_of_its_page(void **state)
{
    (void)state;
    assert_true(N_ROWS > 0);
    int bad = 0;
    for (size_t i = 0; i < N_ROWS; i++) {
        const struct config_key *k = config_key_find(str_from_cstr(rows[i].key));
        if (!k || strcmp(k->name, rows[i].key) != 0) {
            print_error("%s/%s: no such key in config_keys.def (or an alias / other case)\n",
                        rows[i].page, rows[i].key);
            bad++;
        } else if (!config_key_built_in(k, rows[i].svc)) {
            print_error("%s/%s: not built in [%s]\n", rows[i].page, rows[i].key,
                        service_name(rows[i].svc));
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void test_every_built_key_has_one_row_per_page(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
        size_t built = 0, page_rows = 0;
        for (size_t i = 0; i < N_ROWS; i++)
            page_rows += rows[i].svc == pages[p];
        for (size_t k = 0; k < config_key_count(); k++) {
            const struct config_key *key = config_key_at(k);
            if (!config_key_built_in(key, pages[p]))
                continue;
            built++;
            int n = 0;
            for (size_t i = 0; i < N_ROWS; i++)
                n += rows[i].svc == pages[p] && strcmp(rows[i].key, key->name) == 0;
            if (n != 1) {
                print_error("[%s] %s: %d rows, want 1\n", service_name(pages[p]), key->name, n);
                bad++;
            }
        }
        /* Together with the check above: the page has no other rows. */
        if (page_rows != built) {
            print_error("[%s]: %zu rows for %zu built keys\n", service_name(pages[p]), page_rows,
                        built);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void test_no_empty_text(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t g = 0; g < N_GROUPS; g++) {
        if (blank(groups[g].en) || blank(groups[g].ja)) {
            print_error("group %s: empty title\n", groups[g].id);
            bad++;
        }
    }
    for (size_t i = 0; i < N_ROWS; i++) {
        if (blank(rows[i].en) || blank(rows[i].ja) || blank(rows[i].help_ja)) {
            print_error("%s/%s: empty text\n", rows[i].page, rows[i].key);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* The Japanese help is a translation: Japanese, not the English doc left
 * in place, and without the spec references the doc column carries. */
static void test_japanese_help_is_a_translation(void **state)
{
    (void)state;
    static const char *const refs[] = {"003:", "000:", "(G-", "CFG-", "issue 1", "§"};
    int bad = 0;
    for (size_t g = 0; g < N_GROUPS; g++) {
        if (!utf8_japanese(groups[g].ja)) {
            print_error("group %s: Japanese title is not Japanese UTF-8\n", groups[g].id);
            bad++;
        }
    }
    for (size_t i = 0; i < N_ROWS; i++) {
        const struct config_key *k = config_key_find(str_from_cstr(rows[i].key));
        if (!utf8_japanese(rows[i].help_ja) || (k && strcmp(k->doc, rows[i].help_ja) == 0)) {
            print_error("%s/%s: help is not Japanese UTF-8\n", rows[i].page, rows[i].key);
            bad++;
        }
        for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
            if (strstr(rows[i].help_ja, refs[r])) {
                print_error("%s/%s: help quotes a spec reference (%s)\n", rows[i].page, rows[i].key,
                            refs[r]);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

static void test_every_group_is_defined_once(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t g = 0; g < N_GROUPS; g++) {
        if (group_index(groups[g].id) != (int)g) {
            print_error("group %s defined twice\n", groups[g].id);
            bad++;
        }
    }
    for (size_t i = 0; i < N_ROWS; i++) {
        if (group_index(rows[i].group) < 0) {
            print_error("%s/%s: group %s is not defined\n", rows[i].page, rows[i].key,
                        rows[i].group);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* A page draws a heading when the group changes: each group once, in the
 * guide's order (SETTING_GROUP order). */
static void test_pages_show_groups_in_order(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
        int last = -1;
        const char *last_key = "(start)";
        for (size_t i = 0; i < N_ROWS; i++) {
            if (rows[i].svc != pages[p])
                continue;
            int g = group_index(rows[i].group);
            if (g < last) {
                print_error("[%s] %s (group %s) after %s (group %s)\n", service_name(pages[p]),
                            rows[i].key, rows[i].group, last_key, groups[last].id);
                bad++;
            }
            if (g > last)
                last = g;
            last_key = rows[i].key;
        }
    }
    assert_int_equal(bad, 0);
}

/* Two settings under one heading must not look alike. */
static void test_labels_distinct_within_a_group(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < N_ROWS; i++) {
        for (size_t j = i + 1; j < N_ROWS; j++) {
            if (rows[i].svc != rows[j].svc || strcmp(rows[i].group, rows[j].group) != 0)
                continue;
            if (strcmp(rows[i].en, rows[j].en) == 0 || strcmp(rows[i].ja, rows[j].ja) == 0) {
                print_error("%s/%s: %s and %s have the same label\n", rows[i].page, rows[i].group,
                            rows[i].key, rows[j].key);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* One key, one doc column: one translation, the same words on each page. */
static void test_a_key_reads_the_same_on_every_page(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < N_ROWS; i++) {
        for (size_t j = i + 1; j < N_ROWS; j++) {
            if (strcmp(rows[i].key, rows[j].key) != 0)
                continue;
            if (strcmp(rows[i].en, rows[j].en) != 0 || strcmp(rows[i].ja, rows[j].ja) != 0 ||
                strcmp(rows[i].help_ja, rows[j].help_ja) != 0) {
                print_error("%s: differs between %s and %s\n", rows[i].key, rows[i].page,
                            rows[j].page);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_is_a_built_key_of_its_page),
        cmocka_unit_test(test_every_built_key_has_one_row_per_page),
        cmocka_unit_test(test_no_empty_text),
        cmocka_unit_test(test_japanese_help_is_a_translation),
        cmocka_unit_test(test_every_group_is_defined_once),
        cmocka_unit_test(test_pages_show_groups_in_order),
        cmocka_unit_test(test_labels_distinct_within_a_group),
        cmocka_unit_test(test_a_key_reads_the_same_on_every_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for proto/ftp_listing_format (G-29 directory pages).
 *
 * A whole page compared byte for byte with the expected HTML, the parent
 * link for every kind of path, escaping of hostile names (markup, quotes,
 * '/', control bytes, a "//" path that must not become a network-path
 * link), the title for IPv6 hosts and the default port, the URL path
 * decoder, and the all-or-nothing promise at every buffer size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/ftp_listing_format.h"

#define PAGE_MAX 16384

static char page_mem[PAGE_MAX];

/* render - the whole page into a fresh buffer, NUL-terminated. */
static const char *render(const char *host, uint16_t port, const char *path, const char *listing)
{
    struct buf b;
    buf_init(&b, page_mem, sizeof(page_mem));
    assert_true(ftp_listing_format(&b, str_from_cstr(host), port, str_from_cstr(path),
                                   str_from_cstr(listing)));
    assert_true(buf_len(&b) < sizeof(page_mem));
    return buf_cstr(&b);
}

/* entry - the markup of one listing line ("" when nothing is shown). */
static const char *entry(const char *path, const char *line)
{
    static char mem[4096];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(ftp_listing_entry(&b, str_from_cstr(path), str_from_cstr(line)));
    return buf_cstr(&b);
}

static const char VSFTPD_LISTING[] =
    "-rw-r--r--    1 0        0              15 Nov 23 20:06 readme.txt\r\n"
    "drwxr-xr-x    2 0        0            4096 Jan  5  2021 sub dir\r\n"
    "lrwxrwxrwx    1 0        0              10 Nov 23 20:16 link.txt -> readme.txt\r\n"
    "something the parser does not know\r\n"
    "-rw-r--r--    1 0        0               4 Nov 23 20:06 a b&c<d>.txt";

static const char EXPECTED_PAGE[] =
    "<!DOCTYPE html>\n"
    "<html>\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<title>Index of ftp://ftp.example.org/pub/</title>\n"
    "</head>\n"
    "<body>\n"
    "<h1>Index of ftp://ftp.example.org/pub/</h1>\n"
    "<ul>\n"
    "<li><a href=\"/\">Parent Directory</a></li>\n"
    "<li><a href=\"/pub/readme.txt\">readme.txt</a> 15 bytes, Nov 23 20:06</li>\n"
    "<li><a href=\"/pub/sub%20dir/\">sub dir/</a> Jan  5  2021</li>\n"
    "<li><a href=\"/pub/link.txt\">link.txt</a> -&gt; readme.txt, Nov 23 20:16</li>\n"
    "<li>something the parser does not know</li>\n"
    "<li><a href=\"/pub/a%20b%26c%3Cd%3E.txt\">a b&amp;c&lt;d&gt;.txt</a> 4 bytes, Nov 23 "
    "20:06</li>\n"
    "</ul>\n"
    "</body>\n"
    "</html>\n";

static void test_whole_page(void **state)
{
    (void)state;
    assert_string_equal(render("ftp.example.org", 21, "/pub/", VSFTPD_LISTING), EXPECTED_PAGE);
    /* the same listing with LF line ends, and the path without its '/' */
    char lf[sizeof(VSFTPD_LISTING)];
    size_t n = 0;
    for (const char *p = VSFTPD_LISTING; *p; p++)
        if (*p != '\r')
            lf[n++] = *p;
    lf[n] = '\0';
    /* the title shows the directory with its '/' either way */
    assert_string_equal(render("ftp.example.org", 21, "/pub", lf), EXPECTED_PAGE);
}

static void test_empty_and_skipped(void **state)
{
    (void)state;
    const char *page = render("h", 2121, "/",
                              "total 8\r\n"
                              "drwxr-xr-x 2 0 0 4096 Nov 23 20:06 .\r\n"
                              "drwxr-xr-x 2 0 0 4096 Nov 23 20:06 ..\r\n\r\n");
    assert_non_null(strstr(page, "<title>Index of ftp://h:2121/</title>"));
    assert_null(strstr(page, "Parent Directory")); /* the top has no parent */
    assert_null(strstr(page, "<li>"));
    assert_non_null(strstr(page, "<ul>\n</ul>\n"));
    assert_string_equal(entry("/", "total 8"), "");
    assert_string_equal(entry("/", ""), "");
}

static void test_parent_links(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        const char *parent; /* NULL: none */
    } cases[] = {
        {"", NULL},
        {"/", NULL},
        {"///", NULL},
        {"/a", "/"},
        {"/a/", "/"},
        {"/a/b", "/a/"},
        {"/a/b/", "/a/"},
        {"/a b/c d/", "/a%20b/"},
        {"pub", "/"},
        {"//etc/", "/%2F"}, /* "%2Fetc": the absolute root, never "//" */
        {"//etc/x/", "/%2Fetc/"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *page = render("h", 21, cases[i].path, "");
        const char *li = strstr(page, "<li><a href=\"");
        if (!cases[i].parent) {
            assert_null(li);
            continue;
        }
        assert_non_null(li);
        char want[128];
        snprintf(want, sizeof(want), "<li><a href=\"%s\">Parent Directory</a></li>\n",
                 cases[i].parent);
        assert_memory_equal(li, want, strlen(want));
    }
}

static void test_hostile_names(void **state)
{
    (void)state;
    /* markup and quotes in a name: escaped text, encoded link */
    assert_string_equal(
        entry("/d/", "-rw-r--r-- 1 0 0 1 Nov 23 20:06 \"><script>alert('x')</script>"),
        "<li><a href=\"/d/%22%3E%3Cscript%3Ealert%28%27x%27%29%3C%2Fscript%3E\">&quot;&gt;"
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</a> 1 bytes, Nov 23 20:06</li>\n");
    /* a '/' or "../" in a name cannot leave the directory */
    assert_string_equal(entry("/d/", "-rw-r--r-- 1 0 0 1 Nov 23 20:06 ../../etc/passwd"),
                        "<li><a href=\"/d/..%2F..%2Fetc%2Fpasswd\">../../etc/passwd</a> 1 bytes, "
                        "Nov 23 20:06</li>\n");
    /* control bytes are shown as '?' and encoded in the link */
    assert_string_equal(entry("/", "-rw-r--r-- 1 0 0 1 Nov 23 20:06 a\x01\x7f"
                                   "b"),
                        "<li><a href=\"/a%01%7Fb\">a??b</a> 1 bytes, Nov 23 20:06</li>\n");
    /* an unknown line is escaped too */
    assert_string_equal(entry("/", "<b>&"), "<li>&lt;b&gt;&amp;</li>\n");
    /* a directory path that needs encoding, a name with UTF-8 */
    assert_string_equal(entry("/a&b/\"q\"", "drwxr-xr-x 2 0 0 4096 Nov 23 20:06 \xe9\x96\xa2"),
                        "<li><a href=\"/a%26b/%22q%22/%E9%96%A2/\">\xe9\x96\xa2/</a> Nov 23 "
                        "20:06</li>\n");
    /* a ";type=" in a name stays part of the name */
    assert_string_equal(entry("/", "-rw-r--r-- 1 0 0 1 Nov 23 20:06 x;type=d"),
                        "<li><a href=\"/x%3Btype%3Dd\">x;type=d</a> 1 bytes, Nov 23 20:06</li>\n");
}

static void test_title(void **state)
{
    (void)state;
    assert_non_null(strstr(render("::1", 2121, "/d/", ""), "<title>Index of ftp://[::1]:2121/d/"
                                                           "</title>"));
    assert_non_null(strstr(render("<h>", 21, "x<y", ""), "<title>Index of ftp://&lt;h&gt;/x&lt;y/"
                                                         "</title>"));
    assert_non_null(strstr(render("h", 21, "", ""), "<h1>Index of ftp://h/</h1>"));
}

static void test_dos_listing(void **state)
{
    (void)state;
    assert_string_equal(entry("/", "01-31-12  08:00PM       <DIR>          My Documents"),
                        "<li><a href=\"/My%20Documents/\">My Documents/</a> 01-31-12  "
                        "08:00PM</li>\n");
    assert_string_equal(entry("/", "01-31-12  08:00PM                 1234 a.pdf"),
                        "<li><a href=\"/a.pdf\">a.pdf</a> 1234 bytes, 01-31-12  08:00PM</li>\n");
}

static void test_all_or_nothing(void **state)
{
    (void)state;
    const char *full = render("ftp.example.org", 21, "/pub/", VSFTPD_LISTING);
    size_t need = strlen(full);
    static char mem[PAGE_MAX];
    for (size_t cap = 0; cap <= need + 2; cap++) {
        struct buf b;
        buf_init(&b, mem, cap + 3);
        assert_true(buf_append(&b, "XYZ", 3)); /* what was there stays */
        bool ok = ftp_listing_format(&b, STR_LIT("ftp.example.org"), 21, STR_LIT("/pub/"),
                                     str_make(VSFTPD_LISTING, sizeof(VSFTPD_LISTING) - 1));
        if (cap < need) {
            assert_false(ok);
            assert_int_equal(b.wpos, 3);
        } else {
            assert_true(ok);
            assert_int_equal(buf_len(&b), need + 3);
            assert_memory_equal(mem + 3, EXPECTED_PAGE, need);
        }
        assert_memory_equal(mem, "XYZ", 3);
        /* one entry alone: all or nothing as well */
        buf_init(&b, mem, cap);
        size_t before = b.wpos;
        if (!ftp_listing_entry(&b, STR_LIT("/pub/"),
                               STR_LIT("-rw-r--r-- 1 0 0 4 Nov 23 20:06 a b&c<d>.txt")))
            assert_int_equal(b.wpos, before);
        buf_init(&b, mem, cap);
        if (!ftp_listing_begin(&b, STR_LIT("h"), 21, STR_LIT("/a/b/")))
            assert_int_equal(b.wpos, 0);
    }
}

static void test_path_decode(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(ftp_listing_path_decode(STR_LIT("/a%20b/%E9%96%a2"), out, sizeof(out)), 8);
    assert_string_equal(out, "/a b/\xe9\x96\xa2");
    assert_int_equal(ftp_listing_path_decode(STR_LIT("%zz%4%"), out, sizeof(out)), 6);
    assert_string_equal(out, "%zz%4%");
    assert_int_equal(ftp_listing_path_decode(STR_LIT("%2F%2fetc"), out, sizeof(out)), 5);
    assert_string_equal(out, "//etc");
    assert_int_equal(ftp_listing_path_decode(STR_LIT("a%00b"), out, sizeof(out)), 3);
    assert_memory_equal(out, "a\0b", 4);
    assert_int_equal(ftp_listing_path_decode(STR_LIT(""), out, sizeof(out)), 0);
    assert_string_equal(out, "");
    /* capacity: the result and its NUL must fit */
    assert_int_equal(ftp_listing_path_decode(STR_LIT("abc"), out, 4), 3);
    assert_int_equal(ftp_listing_path_decode(STR_LIT("abcd"), out, 4), (size_t)-1);
    assert_int_equal(ftp_listing_path_decode(STR_LIT("%41%42%43"), out, 4), 3);
    assert_string_equal(out, "ABC");
    assert_int_equal(ftp_listing_path_decode(STR_LIT(""), out, 0), (size_t)-1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_page),     cmocka_unit_test(test_empty_and_skipped),
        cmocka_unit_test(test_parent_links),   cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_title),          cmocka_unit_test(test_dos_listing),
        cmocka_unit_test(test_all_or_nothing), cmocka_unit_test(test_path_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

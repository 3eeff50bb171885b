/* Unit tests for core/config: every key type and bound, the diagnostics
 * format, warnings, override order, defaults (G-28, G-01), svcport forms,
 * path resolution, the spec key list, the shipped conf/sekisho.ini and the
 * generated manual page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"

/* A path that does not exist: the prefix is derived lexically from it. */
#define NAME   "/nonexistent-sekisho/conf/sekisho.ini"
#define PREFIX "/nonexistent-sekisho"

static const enum service all_views[] = {SVC_HTTP, SVC_SMTP, SVC_POP, SVC_FTP, SVC_COMMON};

/* load_flags - config_load_text_flags on a C string; *diag_out gets
 * everything that was printed on the diagnostics stream (caller frees). */
static struct config *load_flags(const char *text, enum service svc, unsigned flags,
                                 char **diag_out)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *d = open_memstream(&buf, &size);
    assert_non_null(d);
    struct config *cfg = config_load_text_flags(text, strlen(text), NAME, svc, d, flags);
    fclose(d);
    *diag_out = buf;
    return cfg;
}

/* load - as a service loads, except that keys not built yet are accepted:
 * most tests here check the value parsers, which every key shares. */
static struct config *load(const char *text, enum service svc, char **diag_out)
{
    return load_flags(text, svc, CONFIG_LOAD_ACCEPT_NOT_BUILT, diag_out);
}

/* expect_strict - exactly what a service sees when it loads text. */
static void expect_strict(const char *text, enum service svc, const char *expected)
{
    char *diag;
    struct config *cfg = load_flags(text, svc, 0, &diag);
    if (expected[0] == '\0') {
        if (!cfg || diag[0] != '\0')
            fail_msg("expected a clean load of:\n%sdiag:\n%s", text, diag);
        config_free(cfg);
    } else {
        if (cfg)
            fail_msg("expected a refusal of:\n%s", text);
        assert_string_equal(diag, expected);
    }
    free(diag);
}

/* load_ok - must load without any message. */
static struct config *load_ok(const char *text, enum service svc)
{
    char *diag;
    struct config *cfg = load(text, svc, &diag);
    if (!cfg || diag[0] != '\0')
        fail_msg("unexpected result for:\n%s\ndiag:\n%s", text, diag);
    free(diag);
    return cfg;
}

/* expect_error - must fail with exactly this diagnostics text. */
static void expect_error(const char *text, enum service svc, const char *expected)
{
    char *diag;
    struct config *cfg = load(text, svc, &diag);
    assert_null(cfg);
    assert_string_equal(diag, expected);
    free(diag);
}

/* expect_invalid - text fails and the message mentions reason. */
static void expect_invalid(const char *text, const char *reason)
{
    char *diag;
    struct config *cfg = load(text, SVC_COMMON, &diag);
    if (cfg || !strstr(diag, reason))
        fail_msg("expected '%s' for:\n%s\ngot:\n%s", reason, text, diag);
    free(diag);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static char *joinf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *joinf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    assert_true(vasprintf(&s, fmt, ap) >= 0);
    va_end(ap);
    return s;
}

/* find_root - the source tree (tests run from it; walk up a little in
 * case they are started from build/). */
static const char *find_root(void)
{
    static const char *const cands[] = {".", "..", "../..", "../../.."};
    static char root[PATH_MAX];
    for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/conf/sekisho.ini", cands[i]);
        if (access(p, R_OK) == 0) {
            snprintf(root, sizeof(root), "%s", cands[i]);
            return root;
        }
    }
    fail_msg("source tree not found (run from the repository root)");
    return NULL;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail_msg("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    assert_non_null(m);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    return buf;
}

/* ---- defaults ---------------------------------------------------------- */

static void test_defaults_g28_g01(void **state)
{
    (void)state;
    static const unsigned ports[] = {9080, 9025, 9110, 9021};
    static const unsigned spawn[] = {200, 50, 50, 10};
    static const enum config_action act[] = {CONFIG_ACTION_DELETE, CONFIG_ACTION_DENY,
                                             CONFIG_ACTION_DELETE, CONFIG_ACTION_DELETE};
    for (unsigned s = 0; s < SVC_COUNT; s++) {
        struct config *cfg = load_ok("", (enum service)s);
        assert_int_equal(cfg->service, s);
        assert_int_equal(cfg->svcport.port, ports[s]);
        assert_string_equal(cfg->svcport.addr, "");
        assert_string_equal(cfg->svcport.iface, "");
        assert_int_equal(cfg->svcport.family, AF_UNSPEC);
        assert_int_equal(cfg->pre_spawn, spawn[s]);
        assert_int_equal(cfg->action, act[s]);
        assert_true(cfg->virus_check);
        assert_false(cfg->notify_admin);
        assert_false(cfg->quarantine);
        assert_false(cfg->keepalive);
        assert_false(cfg->acl_from);
        assert_false(cfg->transparent);
        assert_false(cfg->spam_check);
        assert_false(cfg->spam_rbl);
        assert_int_equal(cfg->keepalive_timeout, 15);
        assert_int_equal(cfg->pbs_lifetime, 10);
        assert_int_equal(cfg->spam_action, CONFIG_SPAM_ACTION_PASS);
        assert_int_equal(cfg->vsd_scantimeout, 90);
        assert_int_equal(cfg->admin_mx_port, 25);
        assert_string_equal(cfg->tmpdir, "/var/tmp/sekisho");
        assert_string_equal(cfg->quarantine_dir, "/var/tmp/sekisho-quarantine");
        assert_string_equal(cfg->product_name, "");
        assert_string_equal(cfg->run_user, "nobody");
        assert_int_equal(cfg->workers, 0);
        assert_int_equal(cfg->scand_threads, 0);
        assert_int_equal(cfg->scan_error_action, CONFIG_SCAN_ERROR_ACTION_TEMPFAIL);
        assert_int_equal(cfg->block_messagesize_len, 2000000000);
        assert_int_equal(cfg->transparent_tproxy_version, 2);
        assert_int_equal(cfg->connect_timeout, 0);
        assert_true(cfg->ipv6);
        assert_int_equal(cfg->spam_rbl_list.count, 3);
        assert_string_equal(cfg->spam_rbl_list.items[0].ptr, "bl.spamcop.net");
        assert_string_equal(cfg->spam_surbl_list.text, "multi.surbl.org");
        assert_string_equal(cfg->spam_change_subject_prefix, "[[SPAM]]");
        assert_int_equal(cfg->pass_ext_list.count, 0);
        assert_string_equal(cfg->pass_ext_list.text, "");
        /* relative defaults are resolved against the prefix */
        assert_string_equal(cfg->prefix, PREFIX);
        assert_string_equal(cfg->hosts_allow, PREFIX "/conf/hosts.allow");
        assert_string_equal(cfg->scand_socket, PREFIX "/run/sekisho-scand.sock");
        assert_string_equal(cfg->database_dir, PREFIX "/databases");
        assert_string_equal(cfg->template_dir, PREFIX "/conf");
        char want[128];
        snprintf(want, sizeof(want), PREFIX "/log/%s/access.log", service_name(cfg->service));
        assert_string_equal(cfg->access_log, want);
        snprintf(want, sizeof(want), PREFIX "/log/%s/error.log", service_name(cfg->service));
        assert_string_equal(cfg->error_log, want);
        snprintf(want, sizeof(want), PREFIX "/log/%s/detect.log", service_name(cfg->service));
        assert_string_equal(cfg->detect_log, want);
        snprintf(want, sizeof(want), PREFIX "/log/%s/info.log", service_name(cfg->service));
        assert_string_equal(cfg->info_log, want);
        /* empty hostname = gethostname() */
        assert_true(cfg->hostname[0] != '\0');
        assert_string_equal(cfg->ini_path, NAME);
        config_free(cfg);
    }
}

static void test_common_view(void **state)
{
    (void)state;
    struct config *cfg =
        load_ok("[common]\ntmpdir=/c\n[http]\ntmpdir=/h\nsvcport=1234\n", SVC_COMMON);
    assert_int_equal(cfg->service, SVC_COMMON);
    assert_string_equal(cfg->tmpdir, "/c");
    /* service-only keys are zero / empty in the common view */
    assert_int_equal(cfg->svcport.port, 0);
    assert_int_equal(cfg->pre_spawn, 0);
    assert_false(cfg->virus_check);
    assert_string_equal(cfg->access_log, "");
    assert_string_equal(cfg->parent_server_host, "");
    assert_int_equal(cfg->pass_ext_list.count, 0);
    assert_non_null(cfg->pass_ext_list.text);
    /* common keys have their defaults */
    assert_string_equal(cfg->database_dir, PREFIX "/databases");
    assert_int_equal(cfg->scand_threads, 0);
    config_free(cfg);
}

/* Every default, written into the ini of every group the key is valid in,
 * loads without a message and reads back the same (enum values allowed in
 * the group, ranges, lengths). */
static void test_every_default_valid_in_every_group(void **state)
{
    (void)state;
    for (size_t i = 0; i < config_key_count(); i++) {
        const struct config_key *k = config_key_at(i);
        for (size_t v = 0; v < sizeof(all_views) / sizeof(all_views[0]); v++) {
            enum service sec = all_views[v];
            if (!config_key_valid_in(k, sec))
                continue;
            const char *def = k->def[sec == SVC_COMMON ? SVC_HTTP : sec];
            char *text = joinf("[%s]\n%s=\"%s\"\n", service_name(sec), k->name, def);
            struct config *cfg = load_ok(text, sec);
            char out[4200];
            assert_true(config_format_value(cfg, k, out, sizeof(out)));
            if (k->type == CONFIG_TYPE_PATH || (k->type == CONFIG_TYPE_LOGDEST && def[0] != '|')) {
                if (def[0] != '/') {
                    char *want = joinf(PREFIX "/%s", def);
                    assert_string_equal(out, want);
                    free(want);
                } else {
                    assert_string_equal(out, def);
                }
            } else if (strcmp(k->name, "hostname") != 0) {
                if (strcmp(out, def) != 0)
                    fail_msg("key %s in [%s]: default '%s' reads back as '%s'", k->name,
                             service_name(sec), def, out);
            }
            config_free(cfg);
            free(text);
        }
    }
}

static void test_table_consistency(void **state)
{
    (void)state;
    assert_true(config_key_count() >= 110);
    for (size_t i = 0; i < config_key_count(); i++) {
        const struct config_key *k = config_key_at(i);
        assert_non_null(k->doc);
        assert_true(strlen(k->doc) > 10);
        assert_true(k->sections != 0);
        /* names are unique and found by lookup */
        assert_ptr_equal(config_key_find(str_from_cstr(k->name)), k);
        /* a key readable from [common] has one default for all services,
         * because the common view uses it for every service */
        if (config_key_valid_in(k, SVC_COMMON)) {
            for (unsigned s = 1; s < SVC_COUNT; s++)
                assert_string_equal(k->def[0], k->def[s]);
        }
        assert_string_not_equal(config_type_name(k->type), "?");
    }
    assert_null(config_key_at(config_key_count()));
    assert_null(config_key_find(STR_LIT("no_such_key")));
    assert_ptr_equal(config_key_find(STR_LIT("block_message_len")),
                     config_key_find(STR_LIT("block_messagesize_len")));
    assert_ptr_equal(config_key_find(STR_LIT("VIRUS_CHECK")),
                     config_key_find(STR_LIT("virus_check")));
    assert_string_equal(service_name(SVC_HTTP), "http");
    assert_string_equal(service_name(SVC_SMTP), "smtp");
    assert_string_equal(service_name(SVC_POP), "pop");
    assert_string_equal(service_name(SVC_FTP), "ftp");
    assert_string_equal(service_name(SVC_COMMON), "common");
}

static void test_enum_names(void **state)
{
    (void)state;
    assert_string_equal(config_action_name(CONFIG_ACTION_PASS), "pass");
    assert_string_equal(config_action_name(CONFIG_ACTION_DELETE), "delete");
    assert_string_equal(config_action_name(CONFIG_ACTION_DENY), "deny");
    assert_string_equal(config_action_name(CONFIG_ACTION_BLACKHOLE), "blackhole");
    assert_string_equal(config_action_name(CONFIG_ACTION_SENDBACK), "sendback");
    assert_string_equal(config_action_name((enum config_action)99), "?");
    assert_string_equal(config_spam_action_name(CONFIG_SPAM_ACTION_PASS), "pass");
    assert_string_equal(config_spam_action_name(CONFIG_SPAM_ACTION_CHANGE_SUBJECT),
                        "change_subject");
    assert_string_equal(config_spam_action_name(CONFIG_SPAM_ACTION_BLACKHOLE), "blackhole");
    assert_string_equal(config_scan_error_action_name(CONFIG_SCAN_ERROR_ACTION_TEMPFAIL),
                        "tempfail");
    assert_string_equal(config_scan_error_action_name(CONFIG_SCAN_ERROR_ACTION_PASS), "pass");
}

/* ---- types and bounds -------------------------------------------------- */

static void test_bool(void **state)
{
    (void)state;
    struct config *cfg =
        load_ok("[http]\nkeepalive=yes\nvirus_check=NO\nanonymous=Yes\n", SVC_HTTP);
    assert_true(cfg->keepalive);
    assert_false(cfg->virus_check);
    assert_true(cfg->anonymous);
    config_free(cfg);
    expect_error("[http]\nkeepalive=on\n", SVC_HTTP,
                 NAME ":2: invalid value 'on' for key 'keepalive' in [http]: expected yes or no\n");
    expect_invalid("[http]\nkeepalive=1\n", "expected yes or no");
    expect_invalid("[http]\nkeepalive=yes # comment\n", "expected yes or no");
}

static void test_uint_bounds(void **state)
{
    (void)state;
    struct config *cfg = load_ok("[http]\npre_spawn=1\n[smtp]\npre_spawn=9999\n", SVC_HTTP);
    assert_int_equal(cfg->pre_spawn, 1);
    config_free(cfg);
    cfg = load_ok("[http]\npre_spawn=1\n[smtp]\npre_spawn=9999\n", SVC_SMTP);
    assert_int_equal(cfg->pre_spawn, 9999);
    config_free(cfg);
    expect_error("[http]\npre_spawn=0\n", SVC_HTTP,
                 NAME ":2: invalid value '0' for key 'pre_spawn' in [http]: expected an integer "
                      "from 1 to 9999\n");
    expect_invalid("[http]\npre_spawn=10000\n", "expected an integer from 1 to 9999");
    expect_invalid("[http]\npre_spawn=-1\n", "expected an integer from 1 to 9999");
    expect_invalid("[http]\npre_spawn=12x\n", "expected an integer from 1 to 9999");
    expect_invalid("[http]\npre_spawn=1 2\n", "expected an integer from 1 to 9999");
    expect_invalid("[http]\npre_spawn=99999999999999999999999\n", "from 1 to 9999");
    /* zero allowed where the range starts at 0 */
    cfg = load_ok("[ftp]\nvsd_scantimeout=0\nconnect_timeout=3600\n", SVC_FTP);
    assert_int_equal(cfg->vsd_scantimeout, 0);
    assert_int_equal(cfg->connect_timeout, 3600);
    config_free(cfg);
    expect_invalid("[ftp]\nconnect_timeout=3601\n", "from 0 to 3600");
    expect_invalid("[ftp]\nvsd_scantimeout=86401\n", "from 0 to 86400");
    expect_invalid("[http]\nkeepalive_timeout=0\n", "from 1 to 3600");
    expect_invalid("[smtp]\ntransparent_tproxy_version=3\n", "from 1 to 2");
    expect_invalid("[common]\nworkers=65\n", "from 0 to 64");
    cfg = load_ok("[smtp]\ntransparent_tproxy_version=1\n", SVC_SMTP);
    assert_int_equal(cfg->transparent_tproxy_version, 1);
    config_free(cfg);
}

static void test_u64_bounds(void **state)
{
    (void)state;
    struct config *cfg = load_ok("[common]\nadmin_notification_id=18446744073709551615\n[smtp]\n"
                                 "block_messagesize_len=2000000000\n",
                                 SVC_SMTP);
    assert_true(cfg->admin_notification_id == UINT64_MAX);
    assert_int_equal(cfg->block_messagesize_len, 2000000000);
    config_free(cfg);
    expect_invalid("[common]\nadmin_notification_id=18446744073709551616\n",
                   "expected an integer from 0 to 18446744073709551615");
    expect_invalid("[smtp]\nblock_messagesize_len=2000000001\n", "from 1 to 2000000000");
    expect_invalid("[smtp]\nblock_messagesize_len=0\n", "from 1 to 2000000000");
    cfg = load_ok("[ftp]\npass_filesize_len=0\nblock_filesize_len=1099511627776\n", SVC_FTP);
    assert_int_equal(cfg->pass_filesize_len, 0);
    assert_true(cfg->block_filesize_len == 1099511627776ull);
    config_free(cfg);
    expect_invalid("[ftp]\nblock_filesize_len=1099511627777\n", "from 1 to 1099511627776");
}

static void test_port(void **state)
{
    (void)state;
    struct config *cfg = load_ok("[common]\nadmin_mx_port=65535\n[smtp]\nparent_server_port=1\n"
                                 "lan_parent_server_port=587\n",
                                 SVC_SMTP);
    assert_int_equal(cfg->admin_mx_port, 65535);
    assert_int_equal(cfg->parent_server_port, 1);
    assert_int_equal(cfg->lan_parent_server_port, 587);
    config_free(cfg);
    expect_invalid("[common]\nadmin_mx_port=0\n", "expected an integer from 1 to 65535");
    expect_invalid("[common]\nadmin_mx_port=65536\n", "expected an integer from 1 to 65535");
    expect_invalid("[pop]\nparent_server_port=pop3\n", "expected an integer from 1 to 65535");
}

static void test_enum_per_section(void **state)
{
    (void)state;
    /* action=deny belongs to SMTP only (003:894 vs 003:1281) */
    expect_error("[common]\n[http]\n\naction=deny\n", SVC_HTTP,
                 NAME ":4: invalid value 'deny' for key 'action' in [http]: expected "
                      "pass|delete\n");
    expect_invalid("[pop]\naction=sendback\n", "expected pass|delete");
    expect_invalid("[ftp]\naction=blackhole\n", "expected pass|delete");
    expect_invalid("[smtp]\naction=drop\n", "expected pass|delete|deny|blackhole|sendback");
    static const char *const smtp_actions[] = {"pass", "delete", "deny", "blackhole", "sendback"};
    for (size_t i = 0; i < 5; i++) {
        char *t = joinf("[smtp]\naction=%s\nlan_action=%s\n", smtp_actions[i], smtp_actions[i]);
        struct config *cfg = load_ok(t, SVC_SMTP);
        assert_string_equal(config_action_name(cfg->action), smtp_actions[i]);
        assert_string_equal(config_action_name(cfg->lan_action), smtp_actions[i]);
        config_free(cfg);
        free(t);
    }
    struct config *cfg = load_ok("[http]\naction=PASS\n", SVC_HTTP);
    assert_int_equal(cfg->action, CONFIG_ACTION_PASS);
    config_free(cfg);
    /* spam_action: blackhole only for SMTP (003:1921) */
    expect_invalid("[pop]\nspam_action=blackhole\n", "expected pass|change_subject");
    cfg = load_ok("[smtp]\nspam_action=blackhole\n[pop]\nspam_action=change_subject\n", SVC_POP);
    assert_int_equal(cfg->spam_action, CONFIG_SPAM_ACTION_CHANGE_SUBJECT);
    config_free(cfg);
    cfg = load_ok("[common]\nscan_error_action=pass\n", SVC_FTP);
    assert_int_equal(cfg->scan_error_action, CONFIG_SCAN_ERROR_ACTION_PASS);
    config_free(cfg);
    expect_invalid("[common]\nscan_error_action=drop\n", "expected tempfail|pass");
}

static void test_string_lengths(void **state)
{
    (void)state;
    char *v = repeat('a', 2047);
    char *t = joinf("[http]\nhttp_from=%s\n", v);
    struct config *cfg = load_ok(t, SVC_HTTP);
    assert_int_equal(strlen(cfg->http_from), 2047);
    config_free(cfg);
    free(t);
    free(v);
    v = repeat('a', 2048);
    t = joinf("[http]\nhttp_from=%s\n", v);
    expect_invalid(t, "too long (2048 bytes, max 2047)");
    free(t);
    free(v);
    cfg = load_ok("[smtp]\nsmtp_rcpt=aaa.com bbb.com\n", SVC_SMTP);
    assert_string_equal(cfg->smtp_rcpt, "aaa.com bbb.com");
    config_free(cfg);
}

static void test_ascii_product_name(void **state)
{
    (void)state;
    char *v = repeat('p', 100);
    char *t = joinf("[smtp]\nproduct_name=%s\n", v);
    struct config *cfg = load_ok(t, SVC_SMTP);
    assert_string_equal(cfg->product_name, v);
    config_free(cfg);
    free(t);
    free(v);
    v = repeat('p', 101);
    t = joinf("[smtp]\nproduct_name=%s\n", v);
    expect_invalid(t, "too long (101 bytes, max 100)");
    free(t);
    free(v);
    expect_invalid("[smtp]\nproduct_name=Seki\xc5\x8dsho\n",
                   "only printable ASCII characters are allowed");
    cfg = load_ok("[smtp]\nproduct_name=My Gateway/1.0\n", SVC_SMTP);
    assert_string_equal(cfg->product_name, "My Gateway/1.0");
    config_free(cfg);
}

static void test_utf8_subject_prefix(void **state)
{
    (void)state;
    /* 99 characters of 3 bytes each are fine (the limit counts characters) */
    char v[400];
    size_t n = 0;
    for (int i = 0; i < 99; i++) {
        memcpy(v + n, "\xe8\xbf\xb7", 3); /* U+8FF7 */
        n += 3;
    }
    v[n] = '\0';
    char *t = joinf("[smtp]\nspam_change_subject_prefix=%s\n", v);
    struct config *cfg = load_ok(t, SVC_SMTP);
    assert_string_equal(cfg->spam_change_subject_prefix, v);
    config_free(cfg);
    free(t);
    t = joinf("[smtp]\nspam_change_subject_prefix=%sx\n", v);
    expect_invalid(t, "too long (100 characters, max 99)");
    free(t);
    expect_invalid("[smtp]\nspam_change_subject_prefix=\xff\n", "not valid UTF-8");
    expect_invalid("[smtp]\nspam_change_subject_prefix=\xc0\xaf\n", "not valid UTF-8");
    expect_invalid("[smtp]\nspam_change_subject_prefix=\xed\xa0\x80\n", "not valid UTF-8");
    expect_invalid("[smtp]\nspam_change_subject_prefix=\xe8\xbf\n", "not valid UTF-8");
    /* quotes keep the trailing blank (G-08) */
    cfg = load_ok("[pop]\nspam_change_subject_prefix=\"[SPAM] \"\n", SVC_POP);
    assert_string_equal(cfg->spam_change_subject_prefix, "[SPAM] ");
    config_free(cfg);
}

static void test_list(void **state)
{
    (void)state;
    struct config *cfg =
        load_ok("[http]\npass_ext_list= .exe , .COM,,\t.bat ,\npass_user_agent_list=Mozilla/4.0 "
                "(compatible),Wget\n[common]\nadmin_mailaddr=a@example.com, b@example.com\n",
                SVC_HTTP);
    assert_string_equal(cfg->pass_ext_list.text, ".exe , .COM,,\t.bat ,");
    assert_int_equal(cfg->pass_ext_list.count, 3);
    assert_true(str_eq_cstr(cfg->pass_ext_list.items[0], ".exe"));
    assert_true(str_eq_cstr(cfg->pass_ext_list.items[1], ".COM"));
    assert_true(str_eq_cstr(cfg->pass_ext_list.items[2], ".bat"));
    /* items are NUL-terminated too */
    assert_string_equal(cfg->pass_ext_list.items[2].ptr, ".bat");
    assert_int_equal(cfg->pass_user_agent_list.count, 2);
    assert_string_equal(cfg->pass_user_agent_list.items[0].ptr, "Mozilla/4.0 (compatible)");
    assert_int_equal(cfg->admin_mailaddr.count, 2);
    assert_string_equal(cfg->admin_mailaddr.items[1].ptr, "b@example.com");
    config_free(cfg);

    char *v = repeat('x', 1999);
    char *t = joinf("[smtp]\nblock_ext_list=%s\n", v);
    cfg = load_ok(t, SVC_SMTP);
    assert_int_equal(cfg->block_ext_list.count, 1);
    config_free(cfg);
    free(t);
    free(v);
    v = repeat('x', 2000);
    t = joinf("[smtp]\nblock_ext_list=%s\n", v);
    expect_invalid(t, "too long (2000 bytes, max 1999)");
    free(t);
    free(v);
    /* RBL/SURBL lists: 199 characters (003:2689) */
    v = repeat('r', 199);
    v[63] = v[127] = v[191] = '.'; /* DNS labels are at most 63 bytes */
    t = joinf("[common]\nspam_rbl_list=%s\n", v);
    cfg = load_ok(t, SVC_SMTP);
    config_free(cfg);
    free(t);
    free(v);
    v = repeat('r', 200);
    t = joinf("[common]\nspam_surbl_list=%s\n", v);
    expect_invalid(t, "too long (200 bytes, max 199)");
    free(t);
    free(v);
    /* an empty list */
    cfg = load_ok("[common]\nspam_rbl_list=\n", SVC_SMTP);
    assert_int_equal(cfg->spam_rbl_list.count, 0);
    assert_string_equal(cfg->spam_rbl_list.text, "");
    config_free(cfg);
}

static void test_riskware(void **state)
{
    (void)state;
    struct config *cfg =
        load_ok("[http]\npass_riskware=Client-IRC.*.*; Adware.Win32.Foo ;;*.*.*\n", SVC_HTTP);
    assert_int_equal(cfg->pass_riskware.count, 3);
    assert_string_equal(cfg->pass_riskware.items[0].ptr, "Client-IRC.*.*");
    assert_string_equal(cfg->pass_riskware.items[1].ptr, "Adware.Win32.Foo");
    assert_string_equal(cfg->pass_riskware.items[2].ptr, "*.*.*");
    config_free(cfg);
    expect_error("[http]\npass_riskware=Client-IRC.*\n", SVC_HTTP,
                 NAME ":2: invalid value 'Client-IRC.*' for key 'pass_riskware' in [http]: "
                      "invalid riskware pattern 'Client-IRC.*' (expected "
                      "Category.Platform.Family, each a name or '*')\n");
    expect_invalid("[smtp]\npass_riskware=a.b.c.d\n", "invalid riskware pattern 'a.b.c.d'");
    expect_invalid("[pop]\npass_riskware=a.b.c;x..y\n", "invalid riskware pattern 'x..y'");
    expect_invalid("[ftp]\npass_riskware=Client*.b.c\n", "invalid riskware pattern");
    expect_invalid("[ftp]\npass_riskware=Cli ent.b.c\n", "invalid riskware pattern");
    expect_invalid("[ftp]\npass_riskware=a.b.c,d.e.f\n", "invalid riskware pattern");
    char *v = repeat('a', 1996);
    char *t = joinf("[ftp]\npass_riskware=%s.*.*\n", v); /* 2000 bytes */
    expect_invalid(t, "too long (2000 bytes, max 1999)");
    free(t);
    free(v);
}

static void test_paths(void **state)
{
    (void)state;
    struct config *cfg = load_ok("[common]\ntmpdir=tmp/spool\nquarantine_dir=/q\n"
                                 "hosts_allow=./conf/ha\n[pop]\ntemplate_dir=tpl\n",
                                 SVC_POP);
    assert_string_equal(cfg->tmpdir, PREFIX "/tmp/spool");
    assert_string_equal(cfg->quarantine_dir, "/q");
    assert_string_equal(cfg->hosts_allow, PREFIX "/./conf/ha");
    assert_string_equal(cfg->template_dir, PREFIX "/tpl");
    config_free(cfg);
    /* log destinations: '|command' stays as written (CFG-6) */
    cfg = load_ok("[smtp]\ndetect_log=|logger -t sekisho -p local0.err\n"
                  "error_log=|tee -a log/smtp/error.log | logger -t x\naccess_log=a.log\n"
                  "info_log=/var/log/i.log\n",
                  SVC_SMTP);
    assert_string_equal(cfg->detect_log, "|logger -t sekisho -p local0.err");
    assert_string_equal(cfg->error_log, "|tee -a log/smtp/error.log | logger -t x");
    assert_string_equal(cfg->access_log, PREFIX "/a.log");
    assert_string_equal(cfg->info_log, "/var/log/i.log");
    config_free(cfg);
    expect_invalid("[smtp]\ndetect_log=|  \n", "empty log command after '|'");
    /* scand_socket must fit in sun_path (107 bytes + NUL) */
    char *v = repeat('s', 107 - 1);
    char *t = joinf("[common]\nscand_socket=/%s\n", v);
    cfg = load_ok(t, SVC_COMMON);
    assert_int_equal(strlen(cfg->scand_socket), 107);
    config_free(cfg);
    free(t);
    t = joinf("[common]\nscand_socket=/%ss\n", v);
    expect_invalid(t, "path too long (108 bytes, max 107)");
    free(t);
    free(v);
    /* a relative socket path counts the prefix */
    v = repeat('s', 107 - sizeof(PREFIX "/") + 2);
    t = joinf("[common]\nscand_socket=%s\n", v);
    expect_invalid(t, "path too long (108 bytes after resolution, max 107)");
    free(t);
    free(v);
}

static void test_svcport_forms(void **state)
{
    (void)state;
    static const struct {
        const char *value, *addr, *iface;
        unsigned port;
        int family;
    } ok[] = {
        {"9080", "", "", 9080, AF_UNSPEC},
        {"10.0.0.2:9080", "10.0.0.2", "", 9080, AF_INET},
        {"%eth0:9080", "", "eth0", 9080, AF_UNSPEC},
        {"10.0.0.2%eth0:9080", "10.0.0.2", "eth0", 9080, AF_INET},
        {"127.0.0.1:1", "127.0.0.1", "", 1, AF_INET},
        {"0.0.0.0:65535", "0.0.0.0", "", 65535, AF_INET},
        {"[::1]:9025", "::1", "", 9025, AF_INET6},
        {"[fe80::1]%eth1:9110", "fe80::1", "eth1", 9110, AF_INET6},
        {"%abcdefghijklmno:21", "", "abcdefghijklmno", 21, AF_UNSPEC},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *t = joinf("[ftp]\nsvcport=%s\n", ok[i].value);
        struct config *cfg = load_ok(t, SVC_FTP);
        assert_string_equal(cfg->svcport.text, ok[i].value);
        assert_string_equal(cfg->svcport.addr, ok[i].addr);
        assert_string_equal(cfg->svcport.iface, ok[i].iface);
        assert_int_equal(cfg->svcport.port, ok[i].port);
        assert_int_equal(cfg->svcport.family, ok[i].family);
        config_free(cfg);
        free(t);
    }
    static const struct {
        const char *value, *reason;
    } bad[] = {
        {"0", "invalid port (expected 1-65535)"},
        {"65536", "invalid port"},
        {"http", "invalid port"},
        {"10.0.0.2:", "invalid port"},
        {"10.0.0.256:80", "invalid IPv4 address"},
        {"example.com:80", "invalid IPv4 address"},
        {"::1:80", "IPv6 addresses must be written in brackets"},
        {":80", "missing address before ':'"},
        {"%:80", "invalid interface name"},
        {"%abcdefghijklmnop:80", "invalid interface name"},
        {"%eth0", "missing ':port' after the interface name"},
        {"[::1]", "expected [address]:port"},
        {"[::1", "missing ']'"},
        {"[::1]x:80", "expected [address]:port or [address]%interface:port"},
        {"[10.0.0.1]:80", "invalid IPv6 address"},
        {"10.0.0.2:9080 9081", "invalid port"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *t = joinf("[http]\nsvcport=%s\n", bad[i].value);
        expect_invalid(t, bad[i].reason);
        free(t);
    }
    char *v = repeat('1', CONFIG_SVCPORT_MAX + 1);
    char *t = joinf("[http]\nsvcport=%s\n", v);
    expect_invalid(t, "too long");
    free(t);
    free(v);
}

static void test_host(void **state)
{
    (void)state;
    struct config *cfg = load_ok("[http]\nparent_server_host=proxy.example.com.\n[smtp]\n"
                                 "parent_server_host=10.1.2.3\nlan_parent_server_host=[::1]\n"
                                 "[pop]\nparent_server_host=fe80::2\n[ftp]\nparent_server_host=\n",
                                 SVC_SMTP);
    assert_string_equal(cfg->parent_server_host, "10.1.2.3");
    assert_string_equal(cfg->lan_parent_server_host, "::1"); /* brackets dropped */
    config_free(cfg);
    expect_invalid("[http]\nparent_server_host=a b\n", "invalid host name");
    expect_invalid("[http]\nparent_server_host=a..b\n", "invalid host name");
    expect_invalid("[http]\nparent_server_host=-x/y\n", "invalid host name");
    expect_invalid("[http]\nparent_server_host=999.1.1.1\n", "invalid IPv4 address");
    expect_invalid("[http]\nparent_server_host=1::2::3\n", "invalid IPv6 address");
    char *v = repeat('l', 64);
    char *t = joinf("[http]\nparent_server_host=%s.com\n", v);
    expect_invalid(t, "invalid host name");
    free(t);
    free(v);
    cfg = load_ok("[common]\nhostname=gw.example.jp\n", SVC_POP);
    assert_string_equal(cfg->hostname, "gw.example.jp");
    config_free(cfg);
}

static void test_url(void **state)
{
    (void)state;
    struct config *cfg =
        load_ok("[common]\nUPDATEURL=http://fsbwserver-direct.example.com\n", SVC_COMMON);
    assert_string_equal(cfg->UPDATEURL, "http://fsbwserver-direct.example.com");
    config_free(cfg);
    cfg = load_ok("[common]\nupdateurl=HTTPS://a/b\n", SVC_COMMON);
    assert_string_equal(cfg->UPDATEURL, "HTTPS://a/b");
    config_free(cfg);
    expect_invalid("[common]\nUPDATEURL=ftp://x/\n", "expected an http:// or https:// URL");
    expect_invalid("[common]\nUPDATEURL=http://\n", "expected an http:// or https:// URL");
    expect_invalid("[common]\nUPDATEURL=http://a b/\n", "blank or non-ASCII character in URL");
}

/* ---- diagnostics ------------------------------------------------------- */

static void test_unknown_key_and_section_are_warnings(void **state)
{
    (void)state;
    char *diag;
    struct config *cfg = load(
        "[http]\nbogus=1\n[expert]\nanything=2\nmore=3\n[http]\npre_spawn=7\n", SVC_HTTP, &diag);
    assert_non_null(cfg);
    assert_string_equal(diag, NAME ":2: unknown key 'bogus' in [http]\n" NAME
                                   ":3: unknown section [expert]\n");
    assert_int_equal(cfg->pre_spawn, 7);
    config_free(cfg);
    free(diag);
    cfg = load("svcport=1\n[http]\n", SVC_HTTP, &diag);
    assert_non_null(cfg);
    assert_string_equal(diag, NAME ":1: key 'svcport' outside of any section ignored\n");
    assert_int_equal(cfg->svcport.port, 9080);
    config_free(cfg);
    free(diag);
}

static void test_key_in_wrong_section(void **state)
{
    (void)state;
    expect_error("[common]\naction=delete\n", SVC_HTTP,
                 NAME ":2: key 'action' is not valid in [common] (valid in [http] [smtp] [pop] "
                      "[ftp])\n");
    expect_error("[http]\nspam_check=yes\n", SVC_SMTP,
                 NAME ":2: key 'spam_check' is not valid in [http] (valid in [smtp] [pop])\n");
    expect_error("[http]\nscand_threads=2\n", SVC_HTTP,
                 NAME ":2: key 'scand_threads' is not valid in [http] (valid in [common])\n");
    expect_invalid("[pop]\nlan_action=deny\n", "key 'lan_action' is not valid in [pop]");
    expect_invalid("[ftp]\nuse_http11=yes\n", "key 'use_http11' is not valid in [ftp]");
    expect_invalid("[pop]\nnoop_interval=5\n", "key 'noop_interval' is not valid in [pop]");
    expect_invalid("[http]\nblock_messagesize=yes\n", "not valid in [http] (valid in [smtp])");
}

static void test_duplicate_key_last_wins(void **state)
{
    (void)state;
    char *diag;
    struct config *cfg = load("[http]\npre_spawn=5\npre_spawn=6\n", SVC_HTTP, &diag);
    assert_non_null(cfg);
    assert_string_equal(diag, NAME ":3: duplicate key 'pre_spawn' in [http] (previous at line "
                                   "2); the last value is used\n");
    assert_int_equal(cfg->pre_spawn, 6);
    config_free(cfg);
    free(diag);
    /* a repeated group continues the group; an alias is the same key */
    cfg = load("[smtp]\nblock_messagesize_len=10\n[http]\n[smtp]\nblock_message_len=20\n", SVC_SMTP,
               &diag);
    assert_non_null(cfg);
    assert_string_equal(diag, NAME ":5: duplicate key 'block_message_len' in [smtp] (previous at "
                                   "line 2); the last value is used\n");
    assert_int_equal(cfg->block_messagesize_len, 20);
    config_free(cfg);
    free(diag);
    /* the same key in two groups is not a duplicate */
    cfg = load_ok("[common]\ntmpdir=/a\n[http]\ntmpdir=/b\n", SVC_HTTP);
    config_free(cfg);
}

static void test_every_error_is_reported(void **state)
{
    (void)state;
    /* Errors in every group, also groups of other services, are all
     * reported, with warnings interleaved in file order. */
    expect_error("[common]\n"
                 "tmpdir=\n"
                 "workers=100\n"
                 "[http]\n"
                 "svcport=99999\n"
                 "nosuchkey=1\n"
                 "action=sendback\n"
                 "[smtp]\n"
                 "this line has no equals\n"
                 "pbs_lifetime=0\n"
                 "[ftp\n"
                 "ignored=1\n"
                 "[pop]\n"
                 "k=\"unterminated\n"
                 "virus_check=perhaps\n",
                 SVC_FTP,
                 NAME ":3: invalid value '100' for key 'workers' in [common]: expected an integer "
                      "from 0 to 64\n" NAME
                      ":5: invalid value '99999' for key 'svcport' in [http]: invalid port "
                      "(expected 1-65535)\n" NAME ":6: unknown key 'nosuchkey' in [http]\n" NAME
                      ":7: invalid value 'sendback' for key 'action' in [http]: expected "
                      "pass|delete\n" NAME ":9: expected 'key = value'\n" NAME
                      ":10: invalid value '0' for key 'pbs_lifetime' in [smtp]: expected an "
                      "integer from 1 to 10080\n" NAME
                      ":11: invalid section header (expected [name], name made of A-Z a-z 0-9 _ "
                      ". -)\n" NAME ":14: unterminated quoted value\n" NAME
                      ":15: invalid value 'perhaps' for key 'virus_check' in [pop]: expected yes "
                      "or no\n");
}

static void test_parser_errors_are_reported(void **state)
{
    (void)state;
    char *v = repeat('v', 4100);
    char *t = joinf("[http]\nk=%s\nbad key=1\n=x\nc=\x01\n", v);
    expect_error(t, SVC_HTTP,
                 NAME ":2: line too long (max 4096 bytes)\n" NAME
                      ":3: invalid key name (expected letters, digits, _ . -)\n" NAME
                      ":4: invalid key name (expected letters, digits, _ . -)\n" NAME
                      ":5: control character in line\n");
    free(t);
    free(v);
    expect_error("[http]\na=\"x\" y\n", SVC_HTTP, NAME ":2: text after closing quote\n");
}

static void test_long_value_is_truncated_in_message(void **state)
{
    (void)state;
    char *v = repeat('9', 100);
    char *t = joinf("[http]\npre_spawn=%s\n", v);
    char *want = joinf(NAME ":2: invalid value '%.*s...' for key 'pre_spawn' in [http]: expected "
                            "an integer from 1 to 9999\n",
                       CONFIG_VALUE_LOG_MAX, v);
    expect_error(t, SVC_HTTP, want);
    free(want);
    free(t);
    free(v);
}

static void test_file_errors(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t size = 0;
    FILE *d = open_memstream(&buf, &size);
    assert_null(config_load("/nonexistent-sekisho/conf/none.ini", SVC_HTTP, d));
    fclose(d);
    assert_string_equal(buf, "/nonexistent-sekisho/conf/none.ini: cannot open: No such file or "
                             "directory\n");
    free(buf);

    char dir[] = "/tmp/sekisho-test-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    d = open_memstream(&buf, &size);
    assert_null(config_load(dir, SVC_HTTP, d));
    fclose(d);
    char *want = joinf("%s: cannot read: Is a directory\n", dir);
    assert_string_equal(buf, want);
    free(want);
    free(buf);

    /* one byte over the size limit */
    char *big = joinf("%s/big.ini", dir);
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    fputs("[http]\n", f);
    for (long i = 7; i < CONFIG_FILE_MAX + 1; i++)
        fputc(i % 64 == 63 ? '\n' : '#', f);
    fclose(f);
    d = open_memstream(&buf, &size);
    assert_null(config_load(big, SVC_HTTP, d));
    fclose(d);
    want = joinf("%s: file too large (more than %d bytes)\n", big, CONFIG_FILE_MAX);
    assert_string_equal(buf, want);
    free(want);
    free(buf);
    /* exactly at the limit it loads */
    assert_int_equal(truncate(big, CONFIG_FILE_MAX), 0);
    struct config *cfg = config_load(big, SVC_HTTP, NULL);
    assert_non_null(cfg);
    config_free(cfg);
    unlink(big);
    free(big);
    rmdir(dir);
    /* no diag stream: silent, still NULL */
    const char *bad = "[http]\npre_spawn=0\n";
    assert_null(config_load_text(bad, strlen(bad), NAME, SVC_HTTP, NULL));
}

/* ---- override order and empty values ---------------------------------- */

static void test_override_order(void **state)
{
    (void)state;
    /* the service group wins over [common] wherever it appears in the file */
    const char *text = "[http]\ntmpdir=/h\nnotify_admin=yes\n"
                       "[common]\ntmpdir=/c\nadmin_mx_host=mx.example.com\nrun_user=proxy\n"
                       "[smtp]\nrun_user=mailproxy\n";
    struct config *h = load_ok(text, SVC_HTTP);
    struct config *s = load_ok(text, SVC_SMTP);
    struct config *c = load_ok(text, SVC_COMMON);
    assert_string_equal(h->tmpdir, "/h");
    assert_string_equal(s->tmpdir, "/c");
    assert_string_equal(c->tmpdir, "/c");
    assert_true(h->notify_admin);
    assert_false(s->notify_admin);
    assert_string_equal(h->admin_mx_host, "mx.example.com");
    assert_string_equal(s->admin_mx_host, "mx.example.com");
    assert_string_equal(h->run_user, "proxy");
    assert_string_equal(s->run_user, "mailproxy");
    assert_string_equal(c->run_user, "proxy");
    config_free(h);
    config_free(s);
    config_free(c);
    /* spam settings live in [common] and may be overridden by smtp/pop */
    struct config *p = load_ok("[common]\nspam_rbl=yes\n[pop]\nspam_rbl=no\n", SVC_POP);
    s = load_ok("[common]\nspam_rbl=yes\n[pop]\nspam_rbl=no\n", SVC_SMTP);
    assert_false(p->spam_rbl);
    assert_true(s->spam_rbl);
    config_free(p);
    config_free(s);
}

static void test_empty_value_means_unset(void **state)
{
    (void)state;
    struct config *cfg = load_ok("[common]\ntmpdir=/c\nscan_error_action=pass\n"
                                 "[http]\ntmpdir=\npre_spawn=\nvirus_check=\naction=\nsvcport=\n"
                                 "scan_error_action=\naccess_log=\nparent_server_host=\n",
                                 SVC_HTTP);
    assert_string_equal(cfg->tmpdir, "/c");
    assert_int_equal(cfg->pre_spawn, 200);
    assert_true(cfg->virus_check);
    assert_int_equal(cfg->action, CONFIG_ACTION_DELETE);
    assert_int_equal(cfg->svcport.port, 9080);
    assert_int_equal(cfg->scan_error_action, CONFIG_SCAN_ERROR_ACTION_PASS);
    assert_string_equal(cfg->access_log, PREFIX "/log/http/access.log");
    assert_string_equal(cfg->parent_server_host, "");
    config_free(cfg);
    /* for text keys an empty value is a value: it overrides [common] */
    cfg = load_ok("[common]\nadmin_mx_host=mx\nadmin_mailaddr=a@b\n[smtp]\nadmin_mx_host=\n"
                  "admin_mailaddr=\n",
                  SVC_SMTP);
    assert_string_equal(cfg->admin_mx_host, "");
    assert_int_equal(cfg->admin_mailaddr.count, 0);
    config_free(cfg);
}

static void test_case_insensitive_names(void **state)
{
    (void)state;
    struct config *cfg = load_ok("[HTTP]\nPre_Spawn=42\n[Common]\nTMPDIR=/x\n", SVC_HTTP);
    assert_int_equal(cfg->pre_spawn, 42);
    assert_string_equal(cfg->tmpdir, "/x");
    config_free(cfg);
}

/* ---- prefix ------------------------------------------------------------ */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_prefix_from_file_location(void **state)
{
    (void)state;
    char dir[] = "/tmp/sekisho-test-prefix-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char real[PATH_MAX];
    assert_non_null(realpath(dir, real));
    char *conf = joinf("%s/conf", dir);
    assert_int_equal(mkdir(conf, 0700), 0);
    char *ini = joinf("%s/sekisho.ini", conf);
    write_text(ini, "[common]\ntmpdir=tmp/spool\n[http]\naccess_log=log/a.log\n");

    /* absolute -f path, from an unrelated working directory */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir("/"), 0);
    struct config *cfg = config_load(ini, SVC_HTTP, NULL);
    assert_non_null(cfg);
    assert_string_equal(cfg->prefix, real);
    char *want = joinf("%s/tmp/spool", real);
    assert_string_equal(cfg->tmpdir, want);
    free(want);
    want = joinf("%s/log/a.log", real);
    assert_string_equal(cfg->access_log, want);
    free(want);
    assert_string_equal(cfg->ini_path, ini);
    config_free(cfg);

    /* relative path: still an absolute prefix */
    assert_int_equal(chdir(conf), 0);
    cfg = config_load("sekisho.ini", SVC_HTTP, NULL);
    assert_non_null(cfg);
    assert_string_equal(cfg->prefix, real);
    config_free(cfg);
    assert_int_equal(chdir(dir), 0);
    cfg = config_load("conf/../conf/sekisho.ini", SVC_COMMON, NULL);
    assert_non_null(cfg);
    assert_string_equal(cfg->prefix, real);
    config_free(cfg);
    assert_int_equal(chdir(cwd), 0);

    unlink(ini);
    rmdir(conf);
    rmdir(dir);
    free(ini);
    free(conf);

    /* an ini at the root: prefix "/" and no double slash */
    struct config *r = config_load_text("", 0, "/sekisho.ini", SVC_HTTP, NULL);
    assert_non_null(r);
    assert_string_equal(r->prefix, "/");
    assert_string_equal(r->hosts_allow, "/conf/hosts.allow");
    config_free(r);
}

/* ---- spec keys, shipped ini, manual ------------------------------------ */

static void test_every_spec_key_is_known(void **state)
{
    (void)state;
    char *path = joinf("%s/tests/unit/core/spec_keys.txt", find_root());
    char *text = read_file(path);
    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char sec[32], key[64];
        assert_int_equal(sscanf(line, "%31s %63s", sec, key), 2);
        const struct config_key *k = config_key_find(str_from_cstr(key));
        if (!k)
            fail_msg("spec key %s [%s] is not in config_keys.def", key, sec);
        assert_string_equal(k->name, key); /* spelled the same */
        if (strcmp(sec, "expert") == 0) {
            assert_true((k->sections & CONFIG_SEC_SERVICES) != 0);
        } else {
            bool found = false;
            for (unsigned s = 0; s <= SVC_COMMON; s++) {
                if (strcmp(service_name((enum service)s), sec) == 0) {
                    found = true;
                    if (!config_key_valid_in(k, (enum service)s))
                        fail_msg("spec key %s is not valid in [%s]", key, sec);
                }
            }
            assert_true(found);
        }
        n++;
    }
    assert_true(n >= 180);
    free(text);
    free(path);
}

static void test_shipped_ini_loads_cleanly(void **state)
{
    (void)state;
    char *path = joinf("%s/conf/sekisho.ini", find_root());
    char *text = read_file(path);
    for (size_t v = 0; v < sizeof(all_views) / sizeof(all_views[0]); v++) {
        char *buf = NULL;
        size_t size = 0;
        FILE *d = open_memstream(&buf, &size);
        struct config *cfg = config_load(path, all_views[v], d);
        fclose(d);
        if (!cfg || buf[0] != '\0')
            fail_msg("conf/sekisho.ini for %s:\n%s", service_name(all_views[v]), buf);
        free(buf);
        /* values for running from a source checkout */
        char *want = joinf("%s/tmp/spool", cfg->prefix);
        assert_string_equal(cfg->tmpdir, want);
        free(want);
        want = joinf("%s/tmp/quarantine", cfg->prefix);
        assert_string_equal(cfg->quarantine_dir, want);
        free(want);
        assert_string_equal(cfg->run_user, "nobody");
        if (all_views[v] != SVC_COMMON) {
            static const unsigned ports[] = {9080, 9025, 9110, 9021};
            assert_string_equal(cfg->svcport.addr, "127.0.0.1");
            assert_int_equal(cfg->svcport.port, ports[all_views[v]]);
            assert_true(cfg->virus_check);
        }
        if (all_views[v] == SVC_HTTP) {
            assert_true(cfg->use_http11);
            assert_true(cfg->keepalive);
            assert_int_equal(cfg->action, CONFIG_ACTION_DELETE);
        }
        config_free(cfg);
    }
    /* every key of the table appears in the shipped file (set or commented) */
    for (size_t i = 0; i < config_key_count(); i++) {
        const char *name = config_key_at(i)->name;
        char *pat = joinf("\n%s=", name), *pat2 = joinf("\n# %s=", name),
             *pat3 = joinf("\n#%s=", name);
        if (!strstr(text, pat) && !strstr(text, pat2) && !strstr(text, pat3))
            fail_msg("key %s missing from conf/sekisho.ini", name);
        free(pat);
        free(pat2);
        free(pat3);
    }
    free(text);
    free(path);
}

#define DOC_BEGIN "<!-- BEGIN GENERATED KEYS (dev/gen-config-doc.sh) -->\n"
#define DOC_END   "<!-- END GENERATED KEYS -->\n"

static void test_manual_is_generated_from_table(void **state)
{
    (void)state;
    char *path = joinf("%s/docs/man/sekisho.ini.5.md", find_root());
    char *doc = read_file(path);
    char *gen = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&gen, &size);
    config_doc_write(m);
    fclose(m);
    /* every key has its heading */
    for (size_t i = 0; i < config_key_count(); i++) {
        char *h = joinf("\n### %s\n", config_key_at(i)->name);
        if (!strstr(doc, h))
            fail_msg("key %s missing from docs/man/sekisho.ini.5.md", config_key_at(i)->name);
        free(h);
    }
    /* and the generated part is current */
    char *b = strstr(doc, DOC_BEGIN), *e = strstr(doc, DOC_END);
    assert_non_null(b);
    assert_non_null(e);
    b += strlen(DOC_BEGIN);
    assert_true(e >= b);
    if ((size_t)(e - b) != size || memcmp(b, gen, size) != 0)
        fail_msg("docs/man/sekisho.ini.5.md is out of date: run dev/gen-config-doc.sh");
    free(gen);
    free(doc);
    free(path);
}

static void test_dump(void **state)
{
    (void)state;
    struct config *cfg = load_ok("[smtp]\nsvcport=127.0.0.1:25\naction=sendback\n"
                                 "block_ext_list=.exe,.com\n",
                                 SVC_SMTP);
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    config_dump(cfg, m);
    fclose(m);
    assert_non_null(strstr(buf, "\nsvcport=127.0.0.1:25\n"));
    assert_non_null(strstr(buf, "\naction=sendback\n"));
    assert_non_null(strstr(buf, "\nblock_ext_list=.exe,.com\n"));
    assert_non_null(strstr(buf, "\npre_spawn=50\n"));
    assert_non_null(strstr(buf, "\ntmpdir=/var/tmp/sekisho\n"));
    assert_null(strstr(buf, "use_http11=")); /* an HTTP-only key */
    free(buf);
    char small[4];
    assert_false(
        config_format_value(cfg, config_key_find(STR_LIT("svcport")), small, sizeof(small)));
    config_free(cfg);
}

/* A setting is a promise: a key the code does not act on is refused when
 * set to anything but its default, and accepted at its default. */
static void test_not_built_keys_refused(void **state)
{
    (void)state;
    expect_strict("[http]\ntransparent_tproxy=yes\n", SVC_HTTP,
                  NAME ":2: transparent_tproxy: not supported by this version\n");
    expect_strict("[http]\ntransparent_tproxy=No\n", SVC_HTTP, "");
    /* refused whichever service starts: the file is one promise */
    expect_strict("[http]\ntransparent_tproxy=yes\n", SVC_SMTP,
                  NAME ":2: transparent_tproxy: not supported by this version\n");
    expect_strict("[smtp]\ntransparent_tproxy=yes\nspam_action=blackhole\n"
                  "spam_quarantine=no\nspam_quarantine=yes\n",
                  SVC_SMTP,
                  NAME ":2: transparent_tproxy: not supported by this version\n" NAME
                       ":5: duplicate key 'spam_quarantine' in [smtp] (previous at line 4); the "
                       "last value is used\n");
    /* built with the console's NAT page (TP-1): every service */
    expect_strict("[http]\ntransparent=yes\n[smtp]\ntransparent=yes\n[pop]\ntransparent=yes\n"
                  "[ftp]\ntransparent=yes\n",
                  SVC_FTP, "");
    /* built since issue 15 (dbupdate reads them): accepted */
    expect_strict("[common]\nUPDATEURL=http://db.example/\n"
                  "orspservice_http_proxy=http://proxy.example:3128\n",
                  SVC_SMTP, "");
    /* built since issue 14: the spam keys, in [common] and the mail services */
    expect_strict("[common]\nspam_rbl=yes\nspam_commtouch=yes\nspam_dns_server=127.0.0.1\n"
                  "[smtp]\nspam_check=yes\nspam_action=change_subject\n[pop]\nspam_check=yes\n",
                  SVC_POP, "");
    /* built since issue 13: accepted */
    expect_strict("[http]\nproxyauth_pam_auth=yes\n[smtp]\nproxymail_auth=yes\npbs=yes\n"
                  "pbs_lifetime=11\nxclient=no\n[pop]\nproxyauth_pam_account=yes\n",
                  SVC_SMTP, "");
    /* a key built for some services only */
    expect_strict("[ftp]\nscan_error_action=pass\n", SVC_SMTP,
                  NAME ":2: scan_error_action: not supported by this version in [ftp] (only in "
                       "[http])\n");
    expect_strict("[ftp]\nvirus_check=no\nsvcport=9021\nnoop_interval=5\n[pop]\nvirus_check=no\n",
                  SVC_HTTP, "");

    expect_strict("[common]\nscan_error_action=pass\n", SVC_HTTP,
                  NAME ":2: scan_error_action: not supported by this version in [common] (only "
                       "in [http])\n");
    expect_strict("[http]\nscan_error_action=pass\n", SVC_HTTP, "");
    /* an invalid value is reported as such, not as "not supported" */
    expect_strict("[http]\ntransparent=maybe\n", SVC_HTTP,
                  NAME ":2: invalid value 'maybe' for key 'transparent' in [http]: expected yes "
                       "or no\n");
}

/* The keys not built today (UPDATEURL and orspservice_http_proxy are
 * since issue 15: dbupdate reads them; transparent since TP-1); every service's keys built
 * somewhere. */
static void test_built_column(void **state)
{
    (void)state;
    static const char *const not_built[] = {
        "transparent_tproxy",
        "transparent_tproxy_version",
    };
    for (size_t i = 0; i < sizeof(not_built) / sizeof(not_built[0]); i++) {
        const struct config_key *k = config_key_find(str_from_cstr(not_built[i]));
        assert_non_null(k);
        if (k->built != 0)
            fail_msg("%s is marked built", k->name);
    }
    for (size_t i = 0; i < config_key_count(); i++) {
        const struct config_key *k = config_key_at(i);
        if ((k->built & ~k->sections) != 0)
            fail_msg("%s is built outside its groups", k->name);
    }
    /* the manual says it in each row */
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    config_doc_write(f);
    fclose(f);
    const char *row = strstr(buf, "### transparent_tproxy\n");
    assert_non_null(row);
    const char *next = strstr(row + 4, "\n### ");
    const char *mark = strstr(row, "**not supported by this version**");
    assert_true(mark && next && mark < next);
    row = strstr(buf, "### scan_error_action\n");
    assert_non_null(row);
    next = strstr(row + 4, "\n### ");
    mark = strstr(row, "- acted on in: [http]; **not supported by this version** elsewhere");
    assert_true(mark && next && mark < next);
    free(buf);
}

/* config_value_check: what a key's type cannot say (issue 14) - RBL and
 * SURBL zones must be DNS names, the engine's address numeric with a
 * port, the DNS servers numeric; refused with the ini line. */
static void test_spam_value_checks(void **state)
{
    (void)state;
    struct config *cfg = load_ok("[common]\nspam_rbl_list=zen.spamhaus.org, bl.test\n"
                                 "spam_surbl_list=multi.surbl.org\n"
                                 "spam_engine_server=[::1]:11333\n"
                                 "spam_dns_server=127.0.0.1:5353, [::1], 10.0.0.1\n",
                                 SVC_SMTP);
    assert_int_equal(cfg->spam_rbl_list.count, 2);
    assert_int_equal(cfg->spam_dns_server.count, 3);
    config_free(cfg);
    cfg = load_ok("[smtp]\nspam_engine_server=/run/rspamd/normal.sock\n", SVC_SMTP);
    config_free(cfg);
    expect_error("[common]\nspam_rbl_list=bl.test, bad_zone.example.\n", SVC_SMTP,
                 NAME ":2: invalid value 'bl.test, bad_zone.example.' for key 'spam_rbl_list' "
                      "in [common]: 'bad_zone.example.' is not a DNS zone name (letters, digits "
                      "and '-' labels)\n");
    expect_error("[pop]\nspam_surbl_list=-x.org\n", SVC_POP,
                 NAME ":2: invalid value '-x.org' for key 'spam_surbl_list' in [pop]: '-x.org' "
                      "is not a DNS zone name (letters, digits and '-' labels)\n");
    expect_error("[common]\nspam_engine_server=127.0.0.1\n", SVC_SMTP,
                 NAME ":2: invalid value '127.0.0.1' for key 'spam_engine_server' in [common]: a "
                      "port is needed: A.A.A.A:PPP, [v6]:PPP or /path/to/socket\n");
    expect_error("[common]\nspam_engine_server=localhost:11333\n", SVC_SMTP,
                 NAME ":2: invalid value 'localhost:11333' for key 'spam_engine_server' in "
                      "[common]: expected A.A.A.A:PPP, [v6]:PPP or /path/to/socket (a numeric "
                      "address)\n");
    cfg = load_ok("[common]\norspservice_http_proxy=http://u:p@proxy.example:3128,[::1]:8080\n",
                  SVC_HTTP);
    config_free(cfg);
    expect_invalid("[common]\norspservice_http_proxy=proxy.example:port\n",
                   NAME ":2: invalid value 'proxy.example:port' for key "
                        "'orspservice_http_proxy' in [common]: ");
    expect_error("[common]\nspam_dns_server=127.0.0.1:99999\n", SVC_SMTP,
                 NAME ":2: invalid value '127.0.0.1:99999' for key 'spam_dns_server' in "
                      "[common]: '127.0.0.1:99999' is not A.A.A.A[:PPP] or [v6][:PPP] (a numeric "
                      "address)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_g28_g01),
        cmocka_unit_test(test_common_view),
        cmocka_unit_test(test_every_default_valid_in_every_group),
        cmocka_unit_test(test_table_consistency),
        cmocka_unit_test(test_enum_names),
        cmocka_unit_test(test_not_built_keys_refused),
        cmocka_unit_test(test_built_column),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_uint_bounds),
        cmocka_unit_test(test_u64_bounds),
        cmocka_unit_test(test_port),
        cmocka_unit_test(test_enum_per_section),
        cmocka_unit_test(test_string_lengths),
        cmocka_unit_test(test_ascii_product_name),
        cmocka_unit_test(test_utf8_subject_prefix),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_riskware),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_svcport_forms),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_unknown_key_and_section_are_warnings),
        cmocka_unit_test(test_key_in_wrong_section),
        cmocka_unit_test(test_duplicate_key_last_wins),
        cmocka_unit_test(test_every_error_is_reported),
        cmocka_unit_test(test_parser_errors_are_reported),
        cmocka_unit_test(test_long_value_is_truncated_in_message),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_override_order),
        cmocka_unit_test(test_empty_value_means_unset),
        cmocka_unit_test(test_case_insensitive_names),
        cmocka_unit_test(test_prefix_from_file_location),
        cmocka_unit_test(test_every_spec_key_is_known),
        cmocka_unit_test(test_shipped_ini_loads_cleanly),
        cmocka_unit_test(test_manual_is_generated_from_table),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_spam_value_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

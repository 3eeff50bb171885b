/* fuzz_ini - proto/ini_parse and core/config on arbitrary bytes.
 *
 * Each input is tokenized by the raw parser (checking that every view lies
 * inside the input and line numbers only grow) and then loaded as a whole
 * configuration, once per view (http, smtp, pop, ftp, common), the way
 * config_load would after reading the file. A loaded snapshot is checked
 * for the invariants other modules rely on and formatted key by key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "proto/ini_parse.h"

static void check_view(struct str v, const char *lo, const char *hi)
{
    if (v.ptr && (v.ptr < lo || v.ptr + v.len > hi))
        abort();
}

static void fuzz_parser(const char *text, size_t len)
{
    struct ini_parser ps;
    struct ini_item it;
    enum ini_parse_result r;
    unsigned last = 0;
    ini_parse_init(&ps, text, len);
    while ((r = ini_parse_next(&ps, &it)) != INI_PARSE_DONE) {
        if (it.line <= last)
            abort();
        last = it.line;
        check_view(it.section, text, text + len);
        if (r == INI_PARSE_ENTRY) {
            check_view(it.key, text, text + len);
            check_view(it.value, text, text + len);
            if (it.key.len == 0)
                abort();
        }
        if ((r == INI_PARSE_INVALID || r == INI_PARSE_TOO_LONG) && it.error == INI_ERR_NONE)
            abort();
    }
}

static void check_config(const struct config *cfg)
{
    static char out[8192];
    if (!cfg->ini_path || !cfg->prefix || !cfg->hostname || !cfg->tmpdir || !cfg->product_name)
        abort();
    if (cfg->service != SVC_COMMON && (cfg->svcport.port == 0 || cfg->svcport.port > 65535))
        abort();
    for (size_t i = 0; i < cfg->pass_ext_list.count; i++) {
        struct str item = cfg->pass_ext_list.items[i];
        if (item.len == 0 || item.ptr[item.len] != '\0')
            abort();
    }
    for (size_t i = 0; i < config_key_count(); i++) {
        if (!config_format_value(cfg, config_key_at(i), out, sizeof(out)))
            abort(); /* every value fits: values are shorter than a line */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    fuzz_parser(text, size);
    static const enum service views[] = {SVC_HTTP, SVC_SMTP, SVC_POP, SVC_FTP, SVC_COMMON};
    for (size_t v = 0; v < sizeof(views) / sizeof(views[0]); v++) {
        struct config *cfg = config_load_text(text, size, "fuzz/conf/sekisho.ini", views[v], NULL);
        if (cfg) {
            if (cfg->service != views[v])
                abort();
            check_config(cfg);
        }
        config_free(cfg);
    }
    return 0;
}

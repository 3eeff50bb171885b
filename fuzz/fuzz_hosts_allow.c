/* fuzz_hosts_allow - libFuzzer target for proto/hosts_allow_parse and
 * core/access.
 *
 * The input is a hosts.allow text. It is tokenized with the pure parser
 * (checking its promises: every call makes progress, line numbers never
 * go back and stay within the text, tokens are non-empty, bounded and hold
 * no separator), each token is classified, and the text is compiled into
 * a table that is matched against a few fixed clients on every field.
 * The same bytes are also compiled as an ini-style pattern list.
 *
 * List files are never read: a '/' that could start a list file path is
 * replaced before compiling, so the target is deterministic and touches no
 * file (net/mask forms such as 10.0.0.0/8 and [::]/0 keep their '/').
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/access.h"
#include "lib/str.h"
#include "proto/hosts_allow_parse.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

static bool is_hex_or_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void check_parser(const char *text, size_t len, bool list_mode)
{
    struct hosts_allow_parser p;
    struct hosts_allow_ev ev;
    struct hosts_allow_pattern pat;
    char reason[HOSTS_ALLOW_REASON_MAX];
    unsigned lines = 1, last_line = 0;
    size_t calls = 0;

    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (list_mode)
        hosts_allow_list_init(&p, text, len);
    else
        hosts_allow_parser_init(&p, text, len);
    while (hosts_allow_next(&p, &ev) != HOSTS_ALLOW_EV_END) {
        check(++calls <= len + 1);
        check(ev.line >= 1 && ev.line <= lines);
        check(ev.line >= last_line);
        last_line = ev.line;
        if (ev.type == HOSTS_ALLOW_EV_PATTERN) {
            check(ev.token.len > 0 && ev.token.len <= HOSTS_ALLOW_TOKEN_MAX);
            for (size_t i = 0; i < ev.token.len; i++) {
                char c = ev.token.ptr[i];
                check(c != ' ' && c != '\t' && c != ',' && c != '\n' && c != '\r' && c != '#');
            }
            (void)hosts_allow_pattern_parse(ev.token, &pat, reason, sizeof(reason));
        } else if (ev.type == HOSTS_ALLOW_EV_RULE) {
            check(!list_mode);
            check(ev.fields != 0 && ev.fields < (1u << HOSTS_ALLOW_FIELD_COUNT));
        } else {
            check(ev.type == HOSTS_ALLOW_EV_ERROR && ev.reason && ev.reason[0]);
        }
    }
    check(hosts_allow_next(&p, &ev) == HOSTS_ALLOW_EV_END);
}

static void match_all(const struct access_table *t)
{
    static const char *const clients[][2] = {
        {"192.168.1.10", "pc1.example.jp"},
        {"10.0.0.2", NULL},
        {"::1", "localhost"},
        {"2001:db8::7", "v6.example.jp"},
        {"::ffff:172.16.5.4", "mapped"},
        {NULL, "domain.jp"},
        {NULL, NULL},
    };
    for (unsigned f = 0; f < HOSTS_ALLOW_FIELD_COUNT; f++) {
        for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++) {
            struct access_client c;
            access_client_init(&c, clients[i][0], clients[i][1]);
            bool m = access_match_client(t, (enum hosts_allow_field)f, &c);
            /* an absent field never matches */
            check(!m || access_table_has(t, (enum hosts_allow_field)f));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    check_parser((const char *)data, size, false);
    check_parser((const char *)data, size, true);

    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    for (size_t i = 0; i < size; i++) {
        if (text[i] == '/' && !(i > 0 && (is_hex_or_digit(text[i - 1]) || text[i - 1] == ']')))
            text[i] = '.';
    }
    struct access_table *t = access_table_from_text(text, size, "fuzz", NULL);
    if (t) {
        match_all(t);
        access_table_free(t);
    }
    t = access_table_new();
    if (t) {
        if (access_table_set_list(t, HOSTS_ALLOW_SMTP_RCPT, text, size, "fuzz", NULL) == 0)
            check(access_table_has(t, HOSTS_ALLOW_SMTP_RCPT));
        match_all(t);
        access_table_free(t);
    }
    free(text);
    return 0;
}

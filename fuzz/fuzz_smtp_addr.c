/* fuzz_smtp_addr - libFuzzer target for proto/smtp_addr (relay control).
 *
 * The input is a recipient address, and also a RCPT argument "TO:<input>"
 * that goes through smtp_path_parse first, as in the session. The
 * property that matters is the one an attacker probes: DOMAIN only for an
 * address with exactly one '@' and nothing that routes ('!', '%', quotes,
 * backslash, brackets, ',', ':', blanks, control or 8-bit bytes), with a
 * domain that is exactly the lowercased text after the '@', only
 * [a-z0-9.-], no empty label, at most 255 bytes; NO_DOMAIN only without
 * '@' and without those bytes. The class does not depend on letter case,
 * a domain array one byte too small turns DOMAIN into REFUSE, and the
 * domain array is always a C string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/smtp_addr.h"
#include "proto/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX 1024 /* longer inputs only test the length limits again */

static bool routes(unsigned char c)
{
    return c == '!' || c == '%' || c == '"' || c == '\\' || c == '[' || c == ']' || c == ',' ||
           c == ':' || c == ';' || c == '<' || c == '>' || c == '(' || c == ')' || c == ' ' ||
           c < 0x20 || c >= 0x7f;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void check(struct str a)
{
    char d[SMTP_ADDR_DOMAIN_MAX + 1];
    memset(d, 'Z', sizeof(d));
    enum smtp_rcpt_class c = smtp_rcpt_classify(a, d, sizeof(d));
    if (memchr(d, '\0', sizeof(d)) == NULL)
        abort();
    size_t ats = 0, at = 0;
    bool bad = false;
    for (size_t i = 0; i < a.len; i++) {
        unsigned char ch = (unsigned char)a.ptr[i];
        if (ch == '@') {
            ats++;
            at = i;
        }
        bad |= routes(ch);
    }
    switch (c) {
    case SMTP_RCPT_DOMAIN: {
        if (ats != 1 || bad || at == 0 || at > SMTP_ADDR_LOCAL_MAX)
            abort();
        size_t n = strlen(d);
        if (n != a.len - at - 1 || n == 0 || n > SMTP_ADDR_DOMAIN_MAX || d[0] == '.' ||
            d[n - 1] == '.' || strstr(d, ".."))
            abort();
        for (size_t i = 0; i < n; i++) {
            char ch = d[i];
            if (ch != lower(a.ptr[at + 1 + i]) ||
                !((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
                abort();
        }
        /* one byte too small: refused, never cut */
        char small[SMTP_ADDR_DOMAIN_MAX + 1];
        if (smtp_rcpt_classify(a, small, n) != SMTP_RCPT_REFUSE)
            abort();
        break;
    }
    case SMTP_RCPT_NO_DOMAIN:
        if (ats != 0 || bad || a.len == 0 || a.len > SMTP_ADDR_LOCAL_MAX || d[0] != '\0')
            abort();
        break;
    case SMTP_RCPT_REFUSE:
        if (d[0] != '\0')
            abort();
        break;
    default:
        abort();
    }
    /* letter case never changes the class or the domain */
    static char up[INPUT_MAX];
    for (size_t i = 0; i < a.len; i++)
        up[i] = a.ptr[i] >= 'a' && a.ptr[i] <= 'z' ? (char)(a.ptr[i] - 'a' + 'A') : a.ptr[i];
    char d2[SMTP_ADDR_DOMAIN_MAX + 1];
    if (smtp_rcpt_classify(str_make(up, a.len), d2, sizeof(d2)) != c || strcmp(d, d2) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX - 8)
        size = INPUT_MAX - 8;
    struct str in = str_make((const char *)data, size);
    check(in);
    /* the same bytes as a RCPT argument, as the session sees them */
    static char arg[INPUT_MAX];
    memcpy(arg, "TO:<", 4);
    memcpy(arg + 4, data, size);
    arg[4 + size] = '>';
    struct str a, params;
    if (smtp_path_parse(str_make(arg, size + 5), "TO:", &a, &params) == SMTP_PATH_OK)
        check(a);
    /* and as a bare argument "TO:<input>" without the brackets */
    memcpy(arg + 1, "TO:", 3);
    if (smtp_path_parse(str_make(arg + 1, size + 3), "TO:", &a, &params) == SMTP_PATH_OK)
        check(a);
    return 0;
}

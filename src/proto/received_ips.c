/* received_ips - see received_ips.h. */
#include "proto/received_ips.h"

#include <arpa/inet.h>
#include <string.h>

static bool is_token_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == ':' || c == '-' || c == '_';
}

bool received_canonical(struct str s, char out[RECEIVED_ADDR_MAX])
{
    out[0] = '\0';
    if (s.len >= 5 && str_has_caseprefix(s, STR_LIT("IPv6:")))
        s = str_make(s.ptr + 5, s.len - 5);
    char text[RECEIVED_TOKEN_MAX];
    if (s.len == 0 || s.len >= sizeof(text))
        return false;
    memcpy(text, s.ptr, s.len);
    text[s.len] = '\0';
    unsigned char a[16];
    if (inet_pton(AF_INET, text, a) == 1) {
        if (memcmp(a, "\0\0\0\0", 4) == 0)
            return false;
        return inet_ntop(AF_INET, a, out, RECEIVED_ADDR_MAX) != NULL;
    }
    if (inet_pton(AF_INET6, text, a) != 1)
        return false;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char zero[16] = {0};
    if (memcmp(a, zero, 16) == 0)
        return false;
    if (memcmp(a, mapped, 12) == 0) {
        if (memcmp(a + 12, zero, 4) == 0)
            return false;
        return inet_ntop(AF_INET, a + 12, out, RECEIVED_ADDR_MAX) != NULL;
    }
    return inet_ntop(AF_INET6, a, out, RECEIVED_ADDR_MAX) != NULL;
}

void received_scan_init(struct received_scan *s)
{
    memset(s, 0, sizeof(*s));
}

/* token_end - the token ended at byte c (0: at the end of the value). */
static void token_end(struct received_scan *s, unsigned char c, received_addr_fn *fn, void *arg)
{
    if (s->len > 0 && !s->over && (s->lb == '[' || s->lb == '(' || s->lb == '@') &&
        (c == ']' || c == ')')) {
        char addr[RECEIVED_ADDR_MAX];
        if (received_canonical(str_make(s->tok, s->len), addr))
            fn(arg, addr);
    }
    s->len = 0;
    s->over = false;
}

void received_scan_feed(struct received_scan *s, const char *p, size_t n, received_addr_fn *fn,
                        void *arg)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (is_token_byte(c)) {
            if (s->len == 0 && !s->over)
                s->lb = s->prev;
            if (s->len < sizeof(s->tok))
                s->tok[s->len++] = (char)c;
            else
                s->over = true;
        } else if (s->len > 0 || s->over) {
            token_end(s, c, fn, arg);
        }
        s->prev = c;
    }
}

void received_scan_end(struct received_scan *s)
{
    s->len = 0;
    s->over = false;
    s->prev = 0;
    s->lb = 0;
}

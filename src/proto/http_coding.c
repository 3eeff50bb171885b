/* http_coding - see http_coding.h. */
#include "proto/http_coding.h"

#include <string.h>

void http_coding_list_init(struct http_coding_list *l)
{
    memset(l, 0, sizeof(*l));
}

enum http_coding http_coding_token(struct str t)
{
    if (str_caseeq_cstr(t, "gzip") || str_caseeq_cstr(t, "x-gzip"))
        return HTTP_CODING_GZIP;
    if (str_caseeq_cstr(t, "deflate"))
        return HTTP_CODING_DEFLATE;
    if (str_caseeq_cstr(t, "br"))
        return HTTP_CODING_BR;
    if (str_caseeq_cstr(t, "zstd"))
        return HTTP_CODING_ZSTD;
    return HTTP_CODING_UNKNOWN;
}

/* next_element - the next comma-separated element of *rest, trimmed; the
 * token before any ';' in *token. False at the end. */
static bool next_element(struct str *rest, struct str *elem, struct str *token)
{
    if (rest->len == 0 && rest->ptr == NULL)
        return false;
    struct str head, tail;
    if (!str_cut(*rest, ',', &head, &tail)) {
        head = *rest;
        tail = (struct str){NULL, 0};
    }
    *rest = tail;
    *elem = str_trim(head);
    struct str tok, params;
    if (!str_cut(*elem, ';', &tok, &params))
        tok = *elem;
    *token = str_trim(tok);
    return true;
}

void http_coding_add(struct http_coding_list *l, struct str value)
{
    struct str rest = value.ptr ? value : STR_LIT(""), elem, tok;
    while (next_element(&rest, &elem, &tok)) {
        if (tok.len == 0 || str_caseeq_cstr(tok, "identity"))
            continue;
        enum http_coding c = http_coding_token(tok);
        if (c == HTTP_CODING_UNKNOWN)
            l->unknown = true;
        if (l->count == HTTP_CODING_LAYERS_MAX) {
            l->too_many = true;
            continue;
        }
        l->codings[l->count++] = (uint8_t)c;
    }
}

bool http_coding_filter_accept(struct str value, struct buf *out)
{
    size_t start = out->wpos;
    bool first = true;
    struct str rest = value.ptr ? value : STR_LIT(""), elem, tok;
    while (next_element(&rest, &elem, &tok)) {
        if (tok.len == 0 ||
            (http_coding_token(tok) == HTTP_CODING_UNKNOWN && !str_caseeq_cstr(tok, "identity")))
            continue;
        if ((!first && !buf_append(out, ", ", 2)) || !buf_append_str(out, elem)) {
            out->wpos = start;
            return false;
        }
        first = false;
    }
    return true;
}

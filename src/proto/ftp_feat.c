/* ftp_feat - see ftp_feat.h. */
#include "proto/ftp_feat.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Features passed without parameters; a parameter makes them unknown. */
static const char *const bare[] = {"SIZE", "MDTM", "TVFS", "UTF8", "PASV", "EPSV", "EPRT"};
/* Features passed with whatever parameters they have. */
static const char *const with_params[] = {"MLST", "LANG"};

bool ftp_feat_allowed(struct str feature)
{
    struct str f = str_trim(feature);
    struct str name = f, params = str_make(f.ptr + f.len, 0);
    for (size_t i = 0; i < f.len; i++)
        if (is_blank(f.ptr[i])) {
            name = str_make(f.ptr, i);
            params = str_trim(str_make(f.ptr + i, f.len - i));
            break;
        }
    for (size_t k = 0; k < sizeof(bare) / sizeof(bare[0]); k++)
        if (str_caseeq_cstr(name, bare[k]))
            return params.len == 0;
    for (size_t k = 0; k < sizeof(with_params) / sizeof(with_params[0]); k++)
        if (str_caseeq_cstr(name, with_params[k]))
            return true;
    /* RFC 3659 5: "REST STREAM" says restarts of STREAM mode transfers work */
    return str_caseeq_cstr(name, "REST") && str_caseeq_cstr(params, "STREAM");
}

bool ftp_feat_edit(const struct ftp_reply *r, struct buf *out)
{
    if (r->code != 211)
        return false;
    /* Written here first, so that out gets all or nothing. A line " X\n"
     * of the text grows to " X\r\n" at most: 4/3 of the text, plus the
     * framing. */
    char mem[FTP_REPLY_TEXT_MAX * 2 + 64];
    struct buf tmp;
    buf_init(&tmp, mem, sizeof(mem));
    bool any = false, ok = true, first = true;
    struct str line, rest = str_make(r->text, r->text_len);
    /* Bounded by the text: each turn takes at least one byte of rest. */
    while (ok && rest.len > 0) {
        /* The last line is the "211 End" line, or a line cut at
         * FTP_REPLY_TEXT_MAX (r->truncated): never a feature. */
        if (!str_cut(rest, '\n', &line, &rest))
            break;
        if (first) {
            first = false;
            continue; /* "Features:" / "Extensions supported:" */
        }
        if (line.len == 0 || !is_blank(line.ptr[0]) || line.len > FTP_FEAT_LINE_MAX)
            continue;
        struct str f = str_trim(line);
        if (f.len == 0 || !ftp_feat_allowed(f))
            continue;
        if (!any)
            ok = buf_append_cstr(&tmp, "211-Features:\r\n");
        any = true;
        ok = ok && buf_append_cstr(&tmp, " ") && buf_append_str(&tmp, f) &&
             buf_append_cstr(&tmp, "\r\n");
    }
    ok = ok && buf_append_cstr(&tmp, any ? "211 End\r\n" : "211 No features\r\n");
    return ok && buf_append(out, buf_rptr(&tmp), buf_len(&tmp));
}

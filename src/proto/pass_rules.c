/* pass_rules - the skip rules that exempt HTTP/FTP data from scanning. */
#include "proto/pass_rules.h"

#include <string.h>

/* SCAN-5, 003:1011-1026: matched by prefix, always active. */
static const char *const builtin_agents[] = {
    "Service Pack Setup",
    "Office Update",
    "Symantec LiveUpdate",
    "TMhtload",
    "BW-C",
    "GETDBHTTP",
    "RealPlayer",
    "RMA",
    "NSPlayer",
    "urlgrabber",
    "Microsoft BITS",
    "Windows-Update-Agent",
    "Adobe Update Manager",
    "Mozilla/4.0 (compatible; Win32; Commtouch Http Client",
};

bool pass_rules_builtin_user_agent(struct str ua)
{
    for (size_t i = 0; i < sizeof(builtin_agents) / sizeof(builtin_agents[0]); i++)
        if (str_has_prefix(ua, str_from_cstr(builtin_agents[i])))
            return true;
    return false;
}

bool pass_rules_user_agent(struct str ua, const struct str *prefixes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (prefixes[i].len > 0 && str_has_prefix(ua, prefixes[i]))
            return true;
    return false;
}

bool pass_rules_extension(struct str name, const struct str *suffixes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (suffixes[i].len > 0 && str_has_casesuffix(name, suffixes[i]))
            return true;
    return false;
}

struct str pass_rules_url_filename(struct str path)
{
    long q = str_find_char(path, '?');
    if (q >= 0)
        path.len = (size_t)q;
    size_t start = path.len;
    while (start > 0 && path.ptr[start - 1] != '/')
        start--;
    return str_make(path.ptr + start, path.len - start);
}

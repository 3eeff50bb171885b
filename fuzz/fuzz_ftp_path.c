/* fuzz_ftp_path - libFuzzer target for proto/ftp_path.
 *
 * The input is split at its first NUL into a current directory (made
 * absolute and normalized by resolving it against "/") and a path a client
 * names. The resolved path must start with '/', hold no empty, "." or ".."
 * component, never end with '/' unless it is "/", and resolving it again
 * must give itself; a result that does not fit is refused with an empty
 * output. The whole input is also read as the text of a 257 reply: a name
 * that is read back must be shorter than the capacity and hold no NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/ftp_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_normal(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || p[0] != '/' || (n > 1 && p[n - 1] == '/'))
        abort();
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '/')
            continue;
        size_t j = i + 1;
        while (j < n && p[j] != '/')
            j++;
        size_t len = j - i - 1;
        if (n > 1 && (len == 0 || (len == 1 && p[i + 1] == '.') ||
                      (len == 2 && p[i + 1] == '.' && p[i + 2] == '.')))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[256], out[256], again[256], name[64];
    const char *p = (const char *)data;
    const char *nul = memchr(p, '\0', size);
    size_t dlen = nul ? (size_t)(nul - p) : 0;
    struct str d = str_make(p, dlen),
               a = nul ? str_make(nul + 1, size - dlen - 1) : str_make(p, size);
    if (!ftp_path_resolve("/", d, dir, sizeof(dir)))
        return 0;
    check_normal(dir);
    if (ftp_path_resolve(dir, a, out, sizeof(out))) {
        check_normal(out);
        if (!ftp_path_resolve("/", str_from_cstr(out), again, sizeof(again)) || strcmp(out, again))
            abort();
    } else if (out[0] != '\0') {
        abort();
    }
    if (ftp_pwd_parse(str_make(p, size), name, sizeof(name))) {
        if (strlen(name) >= sizeof(name))
            abort();
    }
    return 0;
}

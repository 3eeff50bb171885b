/* fuzz_userdb - libFuzzer target for proto/userdb_parse.
 *
 * The input is a userdb.txt. Every record must respect the limits (key
 * 1..USERDB_KEY_MAX bytes, password at most USERDB_PASSWORD_MAX, no control
 * byte in either, at most USERDB_RECORDS_MAX records), come from an odd
 * line two after the previous one, and carry a canonical key of its own
 * length: the key itself for a plain user, otherwise what userdb_key_for
 * gives for its user and server, which parsed again as a file of its own is
 * the same kind with the same canonical key. The iterator must advance on
 * every record and end in END or an ERROR on an odd line (line 0: the file
 * as a whole) that repeats on the next call.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/userdb_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool clean(struct str s)
{
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] < 0x20 || s.ptr[i] == 0x7f)
            return false;
    return true;
}

static void check_canon(const struct userdb_record *r)
{
    static char again[USERDB_KEY_MAX + 1], file[USERDB_KEY_MAX + 3];
    if (r->canon_len == 0 || r->canon_len > USERDB_KEY_MAX || strlen(r->canon) != r->canon_len)
        abort();
    if (r->kind == USERDB_KEY_PLAIN) {
        if (!str_eq(r->key, str_make(r->canon, r->canon_len)) || !str_eq(r->user, r->key) ||
            r->server.len != 0)
            abort();
        return;
    }
    if ((r->kind == USERDB_KEY_ANY_AT_SERVER) != (r->user.len == 0) || r->server.len == 0)
        abort();
    if (userdb_key_for(r->user, r->server, again, sizeof(again)) != r->canon_len ||
        strcmp(again, r->canon))
        abort();
    memcpy(file, r->canon, r->canon_len);
    memcpy(file + r->canon_len, "\n\n", 2);
    struct userdb_parser p;
    struct userdb_record r2;
    struct userdb_error e;
    userdb_parser_init(&p, file, r->canon_len + 2);
    if (userdb_next(&p, &r2, &e) != USERDB_RECORD || r2.kind != r->kind ||
        strcmp(r2.canon, r->canon) || userdb_next(&p, &r2, &e) != USERDB_END)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct userdb_parser p;
    struct userdb_record r;
    struct userdb_error e;
    enum userdb_result res;
    unsigned count = 0, line = 0;
    size_t pos = 0;
    userdb_parser_init(&p, text, size);
    while ((res = userdb_next(&p, &r, &e)) == USERDB_RECORD) {
        /* each record takes two lines, at least "k\n" and a line end */
        if (++count > USERDB_RECORDS_MAX || count > size / 2 + 1 || p.pos <= pos)
            abort();
        pos = p.pos;
        if (r.line != line + 1 || r.line % 2 != 1)
            abort();
        line = r.line + 1;
        if (r.key.len == 0 || r.key.len > USERDB_KEY_MAX || r.password.len > USERDB_PASSWORD_MAX ||
            !clean(r.key) || !clean(r.password) || r.key.ptr < text ||
            r.password.ptr + r.password.len > text + size)
            abort();
        check_canon(&r);
    }
    struct userdb_record r3;
    struct userdb_error e2;
    if (res == USERDB_ERROR) {
        if (!e.reason || (e.line != 0 && e.line % 2 != 1) || userdb_next(&p, &r3, &e2) != res ||
            e2.line != e.line || e2.reason != e.reason)
            abort();
    } else if (userdb_next(&p, &r3, &e2) != USERDB_END) {
        abort();
    }
    return 0;
}

/* userdb_parse - see userdb_parse.h. */
#include "proto/userdb_parse.h"

#include <arpa/inet.h>
#include <string.h>

#include "proto/user_target.h"

const char *userdb_key_kind_name(enum userdb_key_kind k)
{
    switch (k) {
    case USERDB_KEY_PLAIN:
        return "PLAIN";
    case USERDB_KEY_USER_AT_SERVER:
        return "USER_AT_SERVER";
    case USERDB_KEY_ANY_AT_SERVER:
        return "ANY_AT_SERVER";
    }
    return "?";
}

/* is_ctl - NUL, the C0 controls (HT and CR included) and DEL. */
static bool is_ctl(char c)
{
    return (unsigned char)c < 0x20 || c == 0x7f;
}

static bool has_ctl(struct str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (is_ctl(s.ptr[i]))
            return true;
    return false;
}

static bool has_blank(struct str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] == ' ')
            return true;
    return false;
}

enum server_check {
    SERVER_OK = 0,
    SERVER_BAD,  /* not what user_target accepts */
    SERVER_PORT, /* acceptable, but with a ":port" */
};

/* check_server - server as user_target_split reads the part after the
 * separator of USER name@server ("u@" is put in front so that its rules,
 * not a copy of them, decide). *host is the host inside server (an IPv6
 * literal without its brackets). */
static enum server_check check_server(struct str server, struct str *host)
{
    char tmp[2 + USERDB_KEY_MAX];
    if (server.len > sizeof(tmp) - 2)
        return SERVER_BAD;
    tmp[0] = 'u';
    tmp[1] = '@';
    memcpy(tmp + 2, server.ptr, server.len);
    struct user_target t;
    if (user_target_split(str_make(tmp, server.len + 2), &t) != USER_TARGET_HOST || t.name.len != 1)
        return SERVER_BAD;
    if (t.port != 0)
        return SERVER_PORT;
    *host = str_make(server.ptr + (t.host.ptr - tmp - 2), t.host.len);
    return SERVER_OK;
}

/* The bracketed RFC 5952 text of an IPv6 address, NUL included. */
#define V6_TEXT_MAX (INET6_ADDRSTRLEN + 2)

/* v6_text - "[addr]" of the IPv6 address host (without brackets) in
 * inet_ntop's RFC 5952 form (lower case, longest run of zeros shortened);
 * its length, 0 when host is not an IPv6 address. */
static size_t v6_text(struct str host, char out[V6_TEXT_MAX])
{
    char addr[USER_TARGET_HOST_MAX + 1];
    struct in6_addr a;
    if (host.len > USER_TARGET_HOST_MAX)
        return 0;
    memcpy(addr, host.ptr, host.len);
    addr[host.len] = '\0';
    if (inet_pton(AF_INET6, addr, &a) != 1 || !inet_ntop(AF_INET6, &a, out + 1, V6_TEXT_MAX - 2))
        return 0;
    out[0] = '[';
    size_t n = strlen(out);
    out[n++] = ']';
    out[n] = '\0';
    return n;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

size_t userdb_key_for(struct str user, struct str server, char *out, size_t cap)
{
    if (cap > 0)
        out[0] = '\0';
    if (has_ctl(user) || has_blank(user))
        return 0;
    struct str host;
    bool v6;
    if (server.len > 0 && server.ptr[0] != '[' && str_find_char(server, ':') >= 0) {
        host = server; /* an IPv6 address as user_target returns it, without brackets */
        v6 = true;
        if (has_ctl(host) || host.len > USER_TARGET_HOST_MAX)
            return 0;
    } else {
        if (check_server(server, &host) != SERVER_OK)
            return 0;
        v6 = host.len < server.len; /* it had brackets */
    }
    char hosttext[V6_TEXT_MAX];
    if (v6) {
        size_t hlen = v6_text(host, hosttext);
        if (hlen == 0)
            return 0;
        host = str_make(hosttext, hlen);
    }
    size_t n = user.len + 1 + host.len;
    if (n > USERDB_KEY_MAX || n >= cap)
        return 0;
    memcpy(out, user.ptr, user.len);
    out[user.len] = '@';
    for (size_t i = 0; i < host.len; i++)
        out[user.len + 1 + i] = lower(host.ptr[i]);
    out[n] = '\0';
    return n;
}

void userdb_parser_init(struct userdb_parser *p, const char *text, size_t len)
{
    *p = (struct userdb_parser){.text = text, .len = len, .line = 1};
}

/* line_at - the line starting at pos: its bytes without "\n" or "\r\n",
 * and the offset after its end. *ended: it had a line end. */
static struct str line_at(const struct userdb_parser *p, size_t pos, size_t *next, bool *ended)
{
    const char *nl = memchr(p->text + pos, '\n', p->len - pos);
    if (!nl) {
        *next = p->len;
        *ended = false;
        return str_make(p->text + pos, p->len - pos);
    }
    size_t n = (size_t)(nl - (p->text + pos));
    *next = pos + n + 1;
    *ended = true;
    if (n > 0 && nl[-1] == '\r')
        n--;
    return str_make(p->text + pos, n);
}

static enum userdb_result fail(struct userdb_parser *p, unsigned line, const char *reason,
                               struct userdb_error *err)
{
    p->failed = reason;
    p->failed_line = line;
    err->line = line;
    err->reason = reason;
    return USERDB_ERROR;
}

/* classify - kind, user, server and canonical key of rec->key; NULL or
 * the reason it is refused. */
static const char *classify(struct userdb_record *rec)
{
    struct str key = rec->key;
    size_t sep = key.len;
    for (size_t i = key.len; i > 0; i--)
        if (key.ptr[i - 1] == '@' || key.ptr[i - 1] == '#') {
            sep = i - 1;
            break;
        }
    if (sep == key.len) {
        rec->kind = USERDB_KEY_PLAIN;
        rec->user = key;
        rec->server = str_make(key.ptr + key.len, 0);
        memcpy(rec->canon, key.ptr, key.len);
        rec->canon[key.len] = '\0';
        rec->canon_len = key.len;
        return NULL;
    }
    rec->kind = sep == 0 ? USERDB_KEY_ANY_AT_SERVER : USERDB_KEY_USER_AT_SERVER;
    rec->user = str_make(key.ptr, sep);
    struct str server = str_make(key.ptr + sep + 1, key.len - sep - 1);
    switch (check_server(server, &rec->server)) {
    case SERVER_OK:
        break;
    case SERVER_BAD:
        return "server part after '@' or '#' is not a host name, IPv4 address or [IPv6] address";
    case SERVER_PORT:
        return "server part names a port (an entry names a server, not a port)";
    }
    char v6[V6_TEXT_MAX];
    if (rec->server.len < server.len && v6_text(rec->server, v6) == 0)
        return "server part in brackets is not an IPv6 address";
    rec->canon_len = userdb_key_for(rec->user, server, rec->canon, sizeof(rec->canon));
    if (rec->canon_len == 0) /* the RFC 5952 form of an IPv6 address can be longer */
        return "canonical key (user@server, IPv6 address in RFC 5952 form) longer than 255 bytes";
    return NULL;
}

enum userdb_result userdb_next(struct userdb_parser *p, struct userdb_record *rec,
                               struct userdb_error *err)
{
    if (p->failed)
        return fail(p, p->failed_line, p->failed, err);
    if (p->len > USERDB_FILE_MAX)
        return fail(p, 0, "file larger than 51400000 bytes (USERDB_FILE_MAX)", err);
    if (p->pos >= p->len)
        return USERDB_END;
    unsigned line = p->line;
    if (p->records >= USERDB_RECORDS_MAX)
        return fail(p, line, "more than 100000 records (USERDB_RECORDS_MAX)", err);
    size_t next;
    bool ended;
    struct str key = line_at(p, p->pos, &next, &ended);
    if (key.len == 0)
        return fail(p, line,
                    "blank line where a user name is expected (it would pair every following "
                    "password with the wrong name)",
                    err);
    if (key.len > USERDB_KEY_MAX)
        return fail(p, line, "user name longer than 255 bytes", err);
    if (has_ctl(key))
        return fail(p, line, "control byte or NUL in the user name", err);
    if (has_blank(key))
        return fail(p, line, "blank in the user name", err);
    if (!ended || next >= p->len)
        return fail(p, line,
                    "user name without a password line (an empty password is an empty line)", err);
    size_t after;
    struct str pw = line_at(p, next, &after, &ended);
    if (pw.len > USERDB_PASSWORD_MAX)
        return fail(p, line, "password line longer than 255 bytes", err);
    if (has_ctl(pw))
        return fail(p, line, "control byte or NUL in the password line", err);
    *rec = (struct userdb_record){.line = line, .key = key, .password = pw};
    const char *why = classify(rec);
    if (why)
        return fail(p, line, why, err);
    if (rec->kind == USERDB_KEY_PLAIN && pw.len == 0)
        return fail(p, line,
                    "empty password line for a user name (only user@server and @server "
                    "entries may have none)",
                    err);
    p->pos = after;
    p->line += 2;
    p->records++;
    return USERDB_RECORD;
}

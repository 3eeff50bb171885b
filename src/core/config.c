/* config - load and validate sekisho.ini into a read-only snapshot.
 *
 * Two passes over the entries of the file. The first validates every
 * entry of every section (as if each section were the view), so a typo in
 * [ftp] is reported when the HTTP proxy starts; it reports all problems and
 * remembers the valid entries. The second builds the requested view from
 * the defaults, the [common] entries and the service's entries, in that
 * order, through the same value parser, so a value that passed the first
 * pass cannot be read differently in the second.
 */
#include "core/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config_value_check.h"
#include "proto/ini_parse.h"

/* ---- the tables generated from config_keys.def ------------------------ */

#define RANGE(a, b) .min = (a), .max = (b)
#define MAXLEN(n)   .max = (n)
#define ENUMV(t)    .enum_type = #t
#define NOARG       .max = 0
#define D(x)                                                                                       \
    {                                                                                              \
        x, x, x, x                                                                                 \
    }
#define PER_SVC(h, s, p, f)                                                                        \
    {                                                                                              \
        h, s, p, f                                                                                 \
    }
#define CONFIG_KEY(name_, sections_, built_, type_, arg_, def_, doc_)                              \
    {.name = #name_,                                                                               \
     .sections = (sections_),                                                                      \
     .built = (built_) & (sections_),                                                              \
     .type = CONFIG_TYPE_##type_,                                                                  \
     .offset = offsetof(struct config, name_),                                                     \
     arg_,                                                                                         \
     .def = def_,                                                                                  \
     .doc = doc_},
static const struct config_key keys[] = {
#include "core/config_keys.def"
};
#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

struct config_alias {
    const char *alias;
    const char *name;
};
#define CONFIG_ALIAS(alias_, name_) {#alias_, #name_},
static const struct config_alias aliases[] = {
#include "core/config_keys.def"
};

struct config_enum_value {
    const char *type;
    int value;
    const char *text;
    unsigned sections;
};
#define CONFIG_ENUM_VALUE(type_, id_, text_, sections_) {#type_, id_, text_, sections_},
static const struct config_enum_value enum_values[] = {
#include "core/config_keys.def"
};

#undef RANGE
#undef MAXLEN
#undef ENUMV
#undef NOARG
#undef D
#undef PER_SVC

/* ENUM fields are written through an int; these enums must be int-sized. */
_Static_assert(sizeof(enum config_action) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_spam_action) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_scan_error_action) == sizeof(int), "enum size");

#define PORT_MAX       65535
#define HOST_NAME_MAX_ 253 /* RFC 1035 presentation length */
#define HOST_LABEL_MAX 63
#define WHY_MAX        256 /* reason text of one error */
#define HOSTNAME_BUF   256

static const char *const service_names[SVC_COUNT + 1] = {
    [SVC_HTTP] = "http", [SVC_SMTP] = "smtp",     [SVC_POP] = "pop",
    [SVC_FTP] = "ftp",   [SVC_COMMON] = "common",
};

const char *service_name(enum service svc)
{
    return (unsigned)svc <= SVC_COMMON ? service_names[svc] : "?";
}

static unsigned sec_bit(enum service svc)
{
    return 1u << svc;
}

static bool parse_service(struct str name, enum service *out)
{
    for (unsigned i = 0; i <= SVC_COMMON; i++) {
        if (str_caseeq_cstr(name, service_names[i])) {
            *out = (enum service)i;
            return true;
        }
    }
    return false;
}

/* ---- enum names -------------------------------------------------------- */

static const char *enum_name(const char *type, int value)
{
    for (size_t i = 0; i < sizeof(enum_values) / sizeof(enum_values[0]); i++) {
        if (strcmp(enum_values[i].type, type) == 0 && enum_values[i].value == value)
            return enum_values[i].text;
    }
    return "?";
}

const char *config_action_name(enum config_action v)
{
    return enum_name("action", (int)v);
}

const char *config_spam_action_name(enum config_spam_action v)
{
    return enum_name("spam_action", (int)v);
}

const char *config_scan_error_action_name(enum config_scan_error_action v)
{
    return enum_name("scan_error_action", (int)v);
}

const char *config_type_name(enum config_type t)
{
    static const char *const names[] = {
        [CONFIG_TYPE_BOOL] = "bool",       [CONFIG_TYPE_UINT] = "uint",
        [CONFIG_TYPE_U64] = "u64",         [CONFIG_TYPE_PORT] = "port",
        [CONFIG_TYPE_ENUM] = "enum",       [CONFIG_TYPE_STRING] = "string",
        [CONFIG_TYPE_ASCII] = "ascii",     [CONFIG_TYPE_UTF8] = "utf8",
        [CONFIG_TYPE_LIST] = "list",       [CONFIG_TYPE_RISKWARE] = "riskware",
        [CONFIG_TYPE_PATH] = "path",       [CONFIG_TYPE_LOGDEST] = "logdest",
        [CONFIG_TYPE_SVCPORT] = "svcport", [CONFIG_TYPE_HOST] = "host",
        [CONFIG_TYPE_URL] = "url",
    };
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* ---- table lookup ------------------------------------------------------ */

size_t config_key_count(void)
{
    return KEY_COUNT;
}

const struct config_key *config_key_at(size_t i)
{
    return i < KEY_COUNT ? &keys[i] : NULL;
}

static const struct config_key *key_by_exact_name(const char *name)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    }
    return NULL;
}

const struct config_key *config_key_find(struct str name)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (str_caseeq_cstr(name, keys[i].name))
            return &keys[i];
    }
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (str_caseeq_cstr(name, aliases[i].alias))
            return key_by_exact_name(aliases[i].name);
    }
    return NULL;
}

bool config_key_valid_in(const struct config_key *key, enum service svc)
{
    return (unsigned)svc <= SVC_COMMON && (key->sections & sec_bit(svc)) != 0;
}

bool config_key_built_in(const struct config_key *key, enum service svc)
{
    return (unsigned)svc <= SVC_COMMON && (key->built & sec_bit(svc)) != 0;
}

/* ---- field access ------------------------------------------------------ */

static void *field(struct config *cfg, const struct config_key *k)
{
    return (char *)cfg + k->offset;
}

static const void *cfield(const struct config *cfg, const struct config_key *k)
{
    return (const char *)cfg + k->offset;
}

static bool is_list_type(enum config_type t)
{
    return t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_RISKWARE;
}

static bool is_string_type(enum config_type t)
{
    return t == CONFIG_TYPE_STRING || t == CONFIG_TYPE_ASCII || t == CONFIG_TYPE_UTF8 ||
           t == CONFIG_TYPE_PATH || t == CONFIG_TYPE_LOGDEST || t == CONFIG_TYPE_HOST ||
           t == CONFIG_TYPE_URL;
}

/* Types for which an empty value means "not set in this group". For text
 * types an empty value is a legitimate value ("no list", "no parent"). */
static bool empty_means_unset(enum config_type t)
{
    switch (t) {
    case CONFIG_TYPE_BOOL:
    case CONFIG_TYPE_UINT:
    case CONFIG_TYPE_U64:
    case CONFIG_TYPE_PORT:
    case CONFIG_TYPE_ENUM:
    case CONFIG_TYPE_PATH:
    case CONFIG_TYPE_LOGDEST:
    case CONFIG_TYPE_SVCPORT:
        return true;
    default:
        return false;
    }
}

static void list_clear(struct config_list *l)
{
    free(l->text);
    free(l->items);
    *l = (struct config_list){0};
}

static void free_fields(struct config *cfg)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const struct config_key *k = &keys[i];
        if (is_string_type(k->type)) {
            char **p = field(cfg, k);
            free(*p);
            *p = NULL;
        } else if (is_list_type(k->type)) {
            list_clear(field(cfg, k));
        }
    }
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    free_fields(cfg);
    free(cfg->ini_path);
    free(cfg->prefix);
    free(cfg);
}

/* ---- value checks ------------------------------------------------------ */

static char *dup_view(struct str s)
{
    char *p = malloc(s.len + 1);
    if (p) {
        if (s.len)
            memcpy(p, s.ptr, s.len);
        p[s.len] = '\0';
    }
    return p;
}

/* utf8_count - number of code points of a well-formed UTF-8 string, or
 * (size_t)-1 when s is not well-formed (overlong forms, surrogates and
 * values above U+10FFFF are rejected, RFC 3629 §4). */
static size_t utf8_count(struct str s)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s.ptr;
    size_t i = 0;
    while (i < s.len) {
        unsigned c = p[i];
        size_t more;
        unsigned cp;
        if (c < 0x80) {
            more = 0;
            cp = c;
        } else if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            cp = c & 0x07;
        } else {
            return (size_t)-1;
        }
        if (s.len - i - 1 < more)
            return (size_t)-1;
        for (size_t j = 1; j <= more; j++) {
            unsigned cc = p[i + j];
            if ((cc & 0xc0) != 0x80)
                return (size_t)-1;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return (size_t)-1;
        i += more + 1;
        n++;
    }
    return n;
}

static bool has_control(struct str s, bool allow_tab)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f)
            return true;
    }
    return false;
}

static bool check_text(struct str v, uint64_t max, bool count_chars, char *why, size_t cap)
{
    size_t chars = utf8_count(v);
    if (chars == (size_t)-1) {
        snprintf(why, cap, "not valid UTF-8");
        return false;
    }
    if (has_control(v, !count_chars)) {
        snprintf(why, cap, "control character in value");
        return false;
    }
    if (count_chars && chars > max) {
        snprintf(why, cap, "too long (%zu characters, max %" PRIu64 ")", chars, max);
        return false;
    }
    if (!count_chars && v.len > max) {
        snprintf(why, cap, "too long (%zu bytes, max %" PRIu64 ")", v.len, max);
        return false;
    }
    return true;
}

static bool check_ascii(struct str v, uint64_t max, char *why, size_t cap)
{
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < 0x20 || v.ptr[i] > 0x7e) {
            snprintf(why, cap, "only printable ASCII characters are allowed");
            return false;
        }
    }
    if (v.len > max) {
        snprintf(why, cap, "too long (%zu bytes, max %" PRIu64 ")", v.len, max);
        return false;
    }
    return true;
}

/* A riskware pattern is Category.Platform.Family; each component is '*'
 * or a name without '*', blanks, '.', ';' or ',' (CFG-3). */
static bool riskware_component_ok(struct str c)
{
    if (c.len == 0)
        return false;
    if (c.len == 1 && c.ptr[0] == '*')
        return true;
    for (size_t i = 0; i < c.len; i++) {
        char ch = c.ptr[i];
        if (ch <= 0x20 || ch == 0x7f || ch == '*' || ch == '.' || ch == ';' || ch == ',')
            return false;
    }
    return true;
}

static bool riskware_item_ok(struct str item, char *why, size_t cap)
{
    struct str comp[3], rest = item;
    size_t n = 0;
    for (;;) {
        struct str head, tail;
        bool more = str_cut(rest, '.', &head, &tail);
        if (n == 3) {
            n++;
            break;
        }
        comp[n++] = head;
        if (!more)
            break;
        rest = tail;
    }
    bool ok = n == 3;
    for (size_t i = 0; ok && i < 3; i++)
        ok = riskware_component_ok(comp[i]);
    if (!ok) {
        snprintf(why, cap,
                 "invalid riskware pattern '%.*s' (expected Category.Platform.Family, each a "
                 "name or '*')",
                 (int)(item.len > CONFIG_VALUE_LOG_MAX ? CONFIG_VALUE_LOG_MAX : item.len),
                 item.ptr);
    }
    return ok;
}

/* list_set - split v at sep into l (see struct config_list). */
static bool list_set(struct config_list *l, struct str v, char sep, bool riskware, char *why,
                     size_t cap)
{
    size_t count = 0;
    struct str rest = v, head, tail;
    bool more = v.len > 0;
    while (more) {
        more = str_cut(rest, sep, &head, &tail);
        head = str_trim(head);
        if (head.len > 0) {
            if (riskware && !riskware_item_ok(head, why, cap))
                return false;
            count++;
        }
        rest = tail;
    }
    char *text = dup_view(v);
    /* One block: the item array, then a copy of the text cut into
     * NUL-terminated items (+1 for the final NUL). */
    struct str *items = malloc(count * sizeof(struct str) + v.len + 1);
    if (!text || !items) {
        free(text);
        free(items);
        snprintf(why, cap, "out of memory");
        return false;
    }
    char *copy = (char *)(items + count);
    if (v.len)
        memcpy(copy, v.ptr, v.len);
    copy[v.len] = '\0';
    size_t n = 0;
    rest = str_make(copy, v.len);
    more = v.len > 0;
    while (more) {
        more = str_cut(rest, sep, &head, &tail);
        head = str_trim(head);
        if (head.len > 0) {
            ((char *)head.ptr)[head.len] = '\0'; /* a separator, a blank or the end */
            items[n++] = head;
        }
        rest = tail;
    }
    list_clear(l);
    l->text = text;
    l->count = count;
    l->items = items;
    return true;
}

static bool all_digits(struct str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    }
    return true;
}

static bool inet_ok(int af, struct str s, char *out, size_t cap)
{
    char tmp[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];
    if (s.len == 0 || s.len >= sizeof(tmp))
        return false;
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    if (inet_pton(af, tmp, bin) != 1)
        return false;
    if (out)
        str_copy(out, cap, tmp);
    return true;
}

/* host_check - host name, IPv4 address, IPv6 address (bare or in
 * brackets) or empty. *bare is the value without brackets. */
static bool host_check(struct str v, struct str *bare, char *why, size_t cap)
{
    *bare = v;
    if (v.len == 0)
        return true;
    if (v.ptr[0] == '[' && v.len >= 2 && v.ptr[v.len - 1] == ']')
        *bare = str_make(v.ptr + 1, v.len - 2);
    if (str_find_char(*bare, ':') >= 0 || bare->ptr != v.ptr) {
        if (inet_ok(AF_INET6, *bare, NULL, 0))
            return true;
        snprintf(why, cap, "invalid IPv6 address");
        return false;
    }
    if (v.len > HOST_NAME_MAX_) {
        snprintf(why, cap, "host name too long (max %d bytes)", HOST_NAME_MAX_);
        return false;
    }
    /* A trailing dot (absolute name) is allowed. */
    struct str rest = v, label, tail;
    if (rest.ptr[rest.len - 1] == '.')
        rest.len--;
    bool numeric = true, more = true;
    while (more) {
        more = str_cut(rest, '.', &label, &tail);
        if (label.len == 0 || label.len > HOST_LABEL_MAX)
            goto bad;
        for (size_t i = 0; i < label.len; i++) {
            char c = label.ptr[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_'))
                goto bad;
        }
        numeric = numeric && all_digits(label);
        rest = tail;
    }
    /* All-numeric names are addresses and must be valid ones. */
    if (numeric && !inet_ok(AF_INET, v, NULL, 0)) {
        snprintf(why, cap, "invalid IPv4 address");
        return false;
    }
    return true;
bad:
    snprintf(why, cap, "invalid host name (expected a host name or an IP address)");
    return false;
}

static bool iface_ok(struct str s)
{
    if (s.len == 0 || s.len >= IF_NAMESIZE)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c <= 0x20 || c == 0x7f || c == '/' || c == ':' || c == '%')
            return false;
    }
    return true;
}

/* svcport_parse - CFG-2: PPP | A.A.A.A:PPP | %EEE:PPP | A.A.A.A%EEE:PPP,
 * plus [v6]:PPP and [v6]%EEE:PPP. */
static bool svcport_parse(struct str v, struct svcport *sp, char *why, size_t cap)
{
    struct svcport r = {.family = AF_UNSPEC};
    struct str addr = STR_NULL, iface = STR_NULL, port = v, head, tail;
    bool has_iface = false;
    if (v.len > CONFIG_SVCPORT_MAX) {
        snprintf(why, cap, "too long (max %d bytes)", CONFIG_SVCPORT_MAX);
        return false;
    }
    if (v.len > 0 && v.ptr[0] == '[') {
        if (!str_cut(str_make(v.ptr + 1, v.len - 1), ']', &addr, &tail)) {
            snprintf(why, cap, "missing ']' after IPv6 address");
            return false;
        }
        long colon = -1;
        for (size_t i = 0; i < tail.len; i++) {
            if (tail.ptr[i] == ':')
                colon = (long)i;
        }
        if (colon < 0) {
            snprintf(why, cap, "expected [address]:port");
            return false;
        }
        head = str_make(tail.ptr, (size_t)colon);
        port = str_make(tail.ptr + colon + 1, tail.len - (size_t)colon - 1);
        if (head.len > 0) {
            if (head.ptr[0] != '%') {
                snprintf(why, cap, "expected [address]:port or [address]%%interface:port");
                return false;
            }
            has_iface = true;
            iface = str_make(head.ptr + 1, head.len - 1);
        }
        if (!inet_ok(AF_INET6, addr, r.addr, sizeof(r.addr))) {
            snprintf(why, cap, "invalid IPv6 address");
            return false;
        }
        r.family = AF_INET6;
    } else {
        long colon = -1;
        for (size_t i = 0; i < v.len; i++) {
            if (v.ptr[i] == ':')
                colon = (long)i;
        }
        if (colon >= 0) {
            head = str_make(v.ptr, (size_t)colon);
            port = str_make(v.ptr + colon + 1, v.len - (size_t)colon - 1);
            if (str_cut(head, '%', &addr, &tail)) {
                has_iface = true;
                iface = tail;
            } else {
                addr = head;
                if (addr.len == 0) {
                    snprintf(why, cap, "missing address before ':'");
                    return false;
                }
            }
            if (str_find_char(addr, ':') >= 0) {
                snprintf(why, cap, "IPv6 addresses must be written in brackets: [address]:port");
                return false;
            }
            if (addr.len > 0) {
                if (!inet_ok(AF_INET, addr, r.addr, sizeof(r.addr))) {
                    snprintf(why, cap, "invalid IPv4 address");
                    return false;
                }
                r.family = AF_INET;
            }
        } else if (str_find_char(v, '%') >= 0) {
            snprintf(why, cap, "missing ':port' after the interface name");
            return false;
        }
    }
    if (has_iface) {
        if (!iface_ok(iface)) {
            snprintf(why, cap, "invalid interface name (1-%d characters)", IF_NAMESIZE - 1);
            return false;
        }
        str_copy_view(r.iface, sizeof(r.iface), iface);
    }
    uint64_t p;
    if (!str_to_u64(port, PORT_MAX, &p) || p == 0) {
        snprintf(why, cap, "invalid port (expected 1-%d)", PORT_MAX);
        return false;
    }
    r.port = (unsigned)p;
    str_copy_view(r.text, sizeof(r.text), v);
    *sp = r;
    return true;
}

static bool url_check(struct str v, uint64_t max, char *why, size_t cap)
{
    if (v.len == 0)
        return true;
    size_t skip = str_has_caseprefix(v, STR_LIT("http://"))    ? 7
                  : str_has_caseprefix(v, STR_LIT("https://")) ? 8
                                                               : 0;
    if (skip == 0 || v.len == skip) {
        snprintf(why, cap, "expected an http:// or https:// URL");
        return false;
    }
    for (size_t i = 0; i < v.len; i++) {
        if ((unsigned char)v.ptr[i] <= 0x20 || (unsigned char)v.ptr[i] >= 0x7f) {
            snprintf(why, cap, "blank or non-ASCII character in URL");
            return false;
        }
    }
    if (v.len > max) {
        snprintf(why, cap, "too long (%zu bytes, max %" PRIu64 ")", v.len, max);
        return false;
    }
    return true;
}

/* path_resolve - absolute values as they are, relative ones under prefix. */
static char *path_resolve(const char *prefix, struct str v, uint64_t max, char *why, size_t cap)
{
    size_t plen = (v.ptr[0] == '/' || !prefix) ? 0 : strlen(prefix);
    bool slash = plen > 0 && prefix[plen - 1] != '/';
    size_t total = plen + (slash ? 1 : 0) + v.len;
    if (total > max) {
        snprintf(why, cap, "path too long (%zu bytes%s, max %" PRIu64 ")", total,
                 plen ? " after resolution" : "", max);
        return NULL;
    }
    char *p = malloc(total + 1);
    if (!p) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    if (plen)
        memcpy(p, prefix, plen);
    if (slash)
        p[plen] = '/';
    memcpy(p + plen + (slash ? 1 : 0), v.ptr, v.len);
    p[total] = '\0';
    return p;
}

static const struct config_enum_value *enum_find(const char *type, struct str v)
{
    for (size_t i = 0; i < sizeof(enum_values) / sizeof(enum_values[0]); i++) {
        if (strcmp(enum_values[i].type, type) == 0 && str_caseeq_cstr(v, enum_values[i].text))
            return &enum_values[i];
    }
    return NULL;
}

size_t config_enum_values(const struct config_key *key, enum service svc, const char **out,
                          size_t cap)
{
    size_t n = 0;
    if (key->type != CONFIG_TYPE_ENUM || key->enum_type == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(enum_values) / sizeof(enum_values[0]); i++) {
        const struct config_enum_value *e = &enum_values[i];
        if (strcmp(e->type, key->enum_type) != 0 || !(e->sections & sec_bit(svc)))
            continue;
        if (n < cap)
            out[n] = e->text;
        n++;
    }
    return n;
}

static void enum_expected(const char *type, enum service sec, char *why, size_t cap)
{
    int n = snprintf(why, cap, "expected ");
    const char *sep = "";
    for (size_t i = 0; i < sizeof(enum_values) / sizeof(enum_values[0]); i++) {
        const struct config_enum_value *e = &enum_values[i];
        if (strcmp(e->type, type) != 0 || !(e->sections & sec_bit(sec)))
            continue;
        if (n >= 0 && (size_t)n < cap)
            n += snprintf(why + n, cap - (size_t)n, "%s%s", sep, e->text);
        sep = "|";
    }
}

static bool set_string(char **slot, char *value, char *why, size_t cap)
{
    if (!value) {
        snprintf(why, cap, "out of memory");
        return false;
    }
    free(*slot);
    *slot = value;
    return true;
}

/* set_value - parse v as the value of k in group sec and store it in cfg.
 * check_sec: also reject enum values not allowed in sec (defaults skip it,
 * because a key's default is shared by services where it is meaningless).
 * On failure cfg is unchanged and why holds the reason. */
static bool set_value(struct config *cfg, const struct config_key *k, enum service sec,
                      struct str v, bool check_sec, char *why, size_t cap)
{
    void *slot = field(cfg, k);
    uint64_t n;
    switch (k->type) {
    case CONFIG_TYPE_BOOL:
        if (str_caseeq_cstr(v, "yes") || str_caseeq_cstr(v, "no")) {
            *(bool *)slot = str_caseeq_cstr(v, "yes");
            return true;
        }
        snprintf(why, cap, "expected yes or no");
        return false;
    case CONFIG_TYPE_UINT:
    case CONFIG_TYPE_U64:
    case CONFIG_TYPE_PORT: {
        uint64_t lo = k->type == CONFIG_TYPE_PORT ? 1 : k->min;
        uint64_t hi = k->type == CONFIG_TYPE_PORT ? PORT_MAX : k->max;
        if (!str_to_u64(v, hi, &n) || n < lo) {
            snprintf(why, cap, "expected an integer from %" PRIu64 " to %" PRIu64, lo, hi);
            return false;
        }
        if (k->type == CONFIG_TYPE_U64)
            *(uint64_t *)slot = n;
        else
            *(unsigned *)slot = (unsigned)n;
        return true;
    }
    case CONFIG_TYPE_ENUM: {
        const struct config_enum_value *e = enum_find(k->enum_type, v);
        if (!e || (check_sec && !(e->sections & sec_bit(sec)))) {
            enum_expected(k->enum_type, check_sec ? sec : SVC_SMTP, why, cap);
            return false;
        }
        memcpy(slot, &e->value, sizeof(int));
        return true;
    }
    case CONFIG_TYPE_STRING:
    case CONFIG_TYPE_UTF8:
        if (!check_text(v, k->max, k->type == CONFIG_TYPE_UTF8, why, cap))
            return false;
        return set_string(slot, dup_view(v), why, cap);
    case CONFIG_TYPE_ASCII:
        if (!check_ascii(v, k->max, why, cap))
            return false;
        return set_string(slot, dup_view(v), why, cap);
    case CONFIG_TYPE_LIST:
    case CONFIG_TYPE_RISKWARE:
        if (!check_text(v, k->max, false, why, cap))
            return false;
        return list_set(slot, v, k->type == CONFIG_TYPE_LIST ? ',' : ';',
                        k->type == CONFIG_TYPE_RISKWARE, why, cap);
    case CONFIG_TYPE_LOGDEST:
        if (v.len > 0 && v.ptr[0] == '|') {
            if (str_trim(str_make(v.ptr + 1, v.len - 1)).len == 0) {
                snprintf(why, cap, "empty log command after '|'");
                return false;
            }
            if (!check_text(v, k->max, false, why, cap))
                return false;
            return set_string(slot, dup_view(v), why, cap);
        }
        __attribute__((fallthrough)); /* not a command: a file */
    case CONFIG_TYPE_PATH: {
        if (v.len == 0) {
            snprintf(why, cap, "empty path");
            return false;
        }
        /* the length limit applies to the resolved path (path_resolve) */
        if (!check_text(v, UINT64_MAX, false, why, cap))
            return false;
        char *p = path_resolve(cfg->prefix, v, k->max, why, cap);
        return p && set_string(slot, p, why, cap);
    }
    case CONFIG_TYPE_SVCPORT:
        return svcport_parse(v, slot, why, cap);
    case CONFIG_TYPE_HOST: {
        struct str bare;
        if (!host_check(v, &bare, why, cap))
            return false;
        return set_string(slot, dup_view(bare), why, cap);
    }
    case CONFIG_TYPE_URL:
        if (!url_check(v, k->max, why, cap))
            return false;
        return set_string(slot, dup_view(v), why, cap);
    }
    snprintf(why, cap, "internal error: unknown key type");
    return false;
}

/* zero_value - the value of a key in a view where it has no meaning (the
 * common view of a service-only key): zero, or an empty string or list. */
static bool zero_value(struct config *cfg, const struct config_key *k)
{
    void *slot = field(cfg, k);
    if (is_string_type(k->type)) {
        char **p = slot;
        free(*p);
        *p = dup_view(STR_LIT(""));
        return *p != NULL;
    }
    if (is_list_type(k->type)) {
        char why[WHY_MAX];
        return list_set(slot, STR_LIT(""), ',', false, why, sizeof(why));
    }
    switch (k->type) {
    case CONFIG_TYPE_BOOL:
        *(bool *)slot = false;
        break;
    case CONFIG_TYPE_U64:
        *(uint64_t *)slot = 0;
        break;
    case CONFIG_TYPE_UINT:
    case CONFIG_TYPE_PORT:
        *(unsigned *)slot = 0;
        break;
    case CONFIG_TYPE_ENUM: {
        int zero = 0;
        memcpy(slot, &zero, sizeof(zero));
        break;
    }
    case CONFIG_TYPE_SVCPORT:
        *(struct svcport *)slot = (struct svcport){.family = AF_UNSPEC};
        break;
    default:
        break;
    }
    return true;
}

/* ---- loading ----------------------------------------------------------- */

struct entry {
    enum service sec;
    const struct config_key *key;
    unsigned line;
    struct str value; /* view into the text */
};

struct load {
    const char *name;
    FILE *diag;
    unsigned flags; /* CONFIG_LOAD_* */
    unsigned errors;
    unsigned warnings;
    char *prefix;
    struct entry *entries;
    size_t count, cap;
};

static void diag(struct load *ld, unsigned line, bool error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void diag(struct load *ld, unsigned line, bool error, const char *fmt, ...)
{
    if (error)
        ld->errors++;
    else
        ld->warnings++;
    if (!ld->diag)
        return;
    if (line)
        fprintf(ld->diag, "%s:%u: ", ld->name, line);
    else
        fprintf(ld->diag, "%s: ", ld->name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(ld->diag, fmt, ap);
    va_end(ap);
    fputc('\n', ld->diag);
}

/* Bytes of a value quoted in a message: at most CONFIG_VALUE_LOG_MAX. */
static int quote_len(struct str v)
{
    return (int)(v.len > CONFIG_VALUE_LOG_MAX ? CONFIG_VALUE_LOG_MAX : v.len);
}

static const char *quote_more(struct str v)
{
    return v.len > CONFIG_VALUE_LOG_MAX ? "..." : "";
}

static bool entry_add(struct load *ld, struct entry e)
{
    if (ld->count == ld->cap) {
        size_t ncap = ld->cap ? ld->cap * 2 : 64;
        struct entry *n = realloc(ld->entries, ncap * sizeof(*n));
        if (!n)
            return false;
        ld->entries = n;
        ld->cap = ncap;
    }
    ld->entries[ld->count++] = e;
    return true;
}

/* section_list - "[common] [http] ..." for the groups in mask, in file order. */
static void section_list(unsigned mask, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    /* list [common] first, the way the file is laid out */
    static const enum service order[] = {SVC_COMMON, SVC_HTTP, SVC_SMTP, SVC_POP, SVC_FTP};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (!(mask & sec_bit(order[i])))
            continue;
        int w = snprintf(out + n, cap - n, "%s[%s]", n ? " " : "", service_name(order[i]));
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
}

static void valid_sections(const struct config_key *k, char *out, size_t cap)
{
    section_list(k->sections, out, cap);
}

static void built_sections(const struct config_key *k, char *out, size_t cap)
{
    section_list(k->built, out, cap);
}

/* is_default - the value of k just stored in cfg equals k's default in
 * group sec, compared in ini syntax after parsing (so "Yes" equals "yes"
 * and a relative path its resolved form). dflt is scratch space. */
static bool is_default(const struct config *cfg, struct config *dflt, const struct config_key *k,
                       enum service sec)
{
    /* keys valid in [common] have one default for every service */
    enum service dsvc = sec == SVC_COMMON ? SVC_HTTP : sec;
    char why[WHY_MAX];
    if (!set_value(dflt, k, dsvc, str_from_cstr(k->def[dsvc]), false, why, sizeof(why)))
        return false;
    char have[CONFIG_FORMAT_MAX], want[CONFIG_FORMAT_MAX];
    return config_format_value(cfg, k, have, sizeof(have)) &&
           config_format_value(dflt, k, want, sizeof(want)) && strcmp(have, want) == 0;
}

/* not_built - a setting the code would not act on is refused: a setting
 * is a promise (config_keys.def, the built column). */
static void not_built(struct load *ld, unsigned line, const struct config_key *k, enum service sec)
{
    if (!k->built) {
        diag(ld, line, true, "%s: not supported by this version", k->name);
        return;
    }
    char where[64];
    built_sections(k, where, sizeof(where));
    diag(ld, line, true, "%s: not supported by this version in [%s] (only in %s)", k->name,
         service_name(sec), where);
}

/* check_entries - pass 1: report every problem, keep the valid entries. */
static void check_entries(struct load *ld, const char *text, size_t len)
{
    struct ini_parser ps;
    struct ini_item it;
    enum ini_parse_result r;
    enum service sec = SVC_COMMON;
    bool in_section = false, known_section = false;
    unsigned *seen = calloc((SVC_COMMON + 1) * KEY_COUNT, sizeof(unsigned));
    struct config *scratch = calloc(1, sizeof(*scratch));
    struct config *dflt = calloc(1, sizeof(*dflt));
    if (!seen || !scratch || !dflt) {
        diag(ld, 0, true, "out of memory");
        free(seen);
        free(scratch);
        free(dflt);
        return;
    }
    scratch->prefix = ld->prefix; /* borrowed for path checks */
    dflt->prefix = ld->prefix;
    ini_parse_init(&ps, text, len);
    while ((r = ini_parse_next(&ps, &it)) != INI_PARSE_DONE) {
        if (r == INI_PARSE_INVALID || r == INI_PARSE_TOO_LONG) {
            diag(ld, it.line, true, "%s", ini_parse_error_name(it.error));
            if (it.error == INI_ERR_BAD_SECTION)
                in_section = known_section = false;
            continue;
        }
        if (r == INI_PARSE_SECTION) {
            in_section = true;
            known_section = parse_service(it.section, &sec);
            if (!known_section)
                diag(ld, it.line, false, "unknown section [%.*s]", (int)it.section.len,
                     it.section.ptr);
            continue;
        }
        /* an entry */
        if (it.section_invalid || (in_section && !known_section))
            continue; /* already reported with its header */
        if (!in_section) {
            diag(ld, it.line, false, "key '%.*s' outside of any section ignored", (int)it.key.len,
                 it.key.ptr);
            continue;
        }
        const struct config_key *k = config_key_find(it.key);
        if (!k) {
            diag(ld, it.line, false, "unknown key '%.*s' in [%s]", (int)it.key.len, it.key.ptr,
                 service_name(sec));
            continue;
        }
        if (!config_key_valid_in(k, sec)) {
            char where[64];
            valid_sections(k, where, sizeof(where));
            diag(ld, it.line, true, "key '%.*s' is not valid in [%s] (valid in %s)",
                 (int)it.key.len, it.key.ptr, service_name(sec), where);
            continue;
        }
        unsigned *prev = &seen[(size_t)sec * KEY_COUNT + (size_t)(k - keys)];
        if (*prev) {
            diag(ld, it.line, false,
                 "duplicate key '%.*s' in [%s] (previous at line %u); the last value is used",
                 (int)it.key.len, it.key.ptr, service_name(sec), *prev);
        }
        *prev = it.line;
        if (it.value.len == 0 && empty_means_unset(k->type))
            continue;
        char why[WHY_MAX];
        if (!set_value(scratch, k, sec, it.value, true, why, sizeof(why))) {
            diag(ld, it.line, true, "invalid value '%.*s%s' for key '%.*s' in [%s]: %s",
                 quote_len(it.value), it.value.ptr, quote_more(it.value), (int)it.key.len,
                 it.key.ptr, service_name(sec), why);
            continue;
        }
        if (!config_value_check(k->name, scratch, why, sizeof(why))) {
            diag(ld, it.line, true, "invalid value '%.*s%s' for key '%.*s' in [%s]: %s",
                 quote_len(it.value), it.value.ptr, quote_more(it.value), (int)it.key.len,
                 it.key.ptr, service_name(sec), why);
            continue;
        }
        if (!config_key_built_in(k, sec) && !(ld->flags & CONFIG_LOAD_ACCEPT_NOT_BUILT) &&
            !is_default(scratch, dflt, k, sec)) {
            not_built(ld, it.line, k, sec);
            continue;
        }
        if (!entry_add(ld, (struct entry){sec, k, it.line, it.value}))
            diag(ld, it.line, true, "out of memory");
    }
    scratch->prefix = NULL;
    dflt->prefix = NULL;
    free_fields(scratch);
    free_fields(dflt);
    free(scratch);
    free(dflt);
    free(seen);
}

/* build_view - pass 2: defaults, then [common], then the service group. */
static struct config *build_view(struct load *ld, enum service svc)
{
    struct config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return NULL;
    cfg->service = svc;
    cfg->ini_path = dup_view(str_from_cstr(ld->name));
    cfg->prefix = dup_view(str_from_cstr(ld->prefix));
    if (!cfg->ini_path || !cfg->prefix) {
        config_free(cfg);
        return NULL;
    }
    char why[WHY_MAX];
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const struct config_key *k = &keys[i];
        if (svc == SVC_COMMON && !config_key_valid_in(k, SVC_COMMON)) {
            if (!zero_value(cfg, k))
                diag(ld, 0, true, "out of memory");
            continue;
        }
        /* keys valid in [common] have one default for every service */
        enum service dsvc = svc == SVC_COMMON ? SVC_HTTP : svc;
        if (!set_value(cfg, k, dsvc, str_from_cstr(k->def[dsvc]), false, why, sizeof(why)))
            diag(ld, 0, true, "internal error: default of '%s' for %s: %s", k->name,
                 service_name(dsvc), why);
    }
    enum service pass_order[2] = {SVC_COMMON, svc};
    for (size_t p = 0; p < (svc == SVC_COMMON ? 1u : 2u); p++) {
        for (size_t i = 0; i < ld->count; i++) {
            const struct entry *e = &ld->entries[i];
            if (e->sec != pass_order[p])
                continue;
            if (!set_value(cfg, e->key, e->sec, e->value, true, why, sizeof(why)))
                diag(ld, e->line, true, "%s", why); /* only out of memory */
        }
    }
    /* §0.2: the gateway's own name, when not configured */
    if (cfg->hostname && cfg->hostname[0] == '\0') {
        char host[HOSTNAME_BUF];
        if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
            str_copy(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        char *h = dup_view(str_from_cstr(host));
        if (h) {
            free(cfg->hostname);
            cfg->hostname = h;
        } else {
            diag(ld, 0, true, "out of memory");
        }
    }
    if (ld->errors) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* derive_prefix - absolute parent of the directory holding name. */
static char *derive_prefix(const char *name)
{
    const char *slash = strrchr(name, '/');
    char dir[PATH_MAX];
    if (!slash)
        str_copy(dir, sizeof(dir), ".");
    else if (slash == name)
        str_copy(dir, sizeof(dir), "/");
    else if ((size_t)(slash - name) < sizeof(dir))
        str_copy_view(dir, sizeof(dir), str_make(name, (size_t)(slash - name)));
    else
        return NULL;
    char absdir[PATH_MAX];
    if (!realpath(dir, absdir)) {
        /* The directory need not exist for config_load_text: resolve it
         * lexically against the working directory instead. */
        char cwd[PATH_MAX];
        if (dir[0] == '/') {
            str_copy(absdir, sizeof(absdir), dir);
        } else if (getcwd(cwd, sizeof(cwd))) {
            int w = snprintf(absdir, sizeof(absdir), "%s/%s", strcmp(cwd, "/") ? cwd : "", dir);
            if (w < 0 || (size_t)w >= sizeof(absdir))
                return NULL;
        } else {
            str_copy(absdir, sizeof(absdir), dir);
        }
    }
    size_t n = strlen(absdir);
    while (n > 1 && absdir[n - 1] == '/')
        n--;
    while (n > 0 && absdir[n - 1] != '/')
        n--; /* drop the last component */
    while (n > 1 && absdir[n - 1] == '/')
        n--;
    if (n == 0) /* a relative dir without a parent: "." */
        return dup_view(STR_LIT("."));
    return dup_view(str_make(absdir, n));
}

struct config *config_load_text(const char *text, size_t len, const char *name, enum service svc,
                                FILE *diagf)
{
    return config_load_text_flags(text, len, name, svc, diagf, 0);
}

struct config *config_load_text_flags(const char *text, size_t len, const char *name,
                                      enum service svc, FILE *diagf, unsigned flags)
{
    struct load ld = {.name = name ? name : "(config)", .diag = diagf, .flags = flags};
    if ((unsigned)svc > SVC_COMMON) {
        diag(&ld, 0, true, "internal error: bad service %d", (int)svc);
        return NULL;
    }
    ld.prefix = derive_prefix(ld.name);
    if (!ld.prefix) {
        diag(&ld, 0, true, "cannot determine the installation prefix (path too long)");
        return NULL;
    }
    check_entries(&ld, text, len);
    struct config *cfg = ld.errors ? NULL : build_view(&ld, svc);
    if (!cfg && !ld.errors)
        diag(&ld, 0, true, "out of memory");
    free(ld.entries);
    free(ld.prefix);
    return cfg;
}

struct config *config_load(const char *ini_path, enum service svc, FILE *diagf)
{
    struct load ld = {.name = ini_path ? ini_path : "(null)", .diag = diagf};
    FILE *f = ini_path ? fopen(ini_path, "rb") : NULL;
    if (!f) {
        diag(&ld, 0, true, "cannot open: %s", strerror(ini_path ? errno : EINVAL));
        return NULL;
    }
    /* Read one byte more than allowed to notice an oversized file. */
    char *text = malloc(CONFIG_FILE_MAX + 1);
    size_t len = text ? fread(text, 1, CONFIG_FILE_MAX + 1, f) : 0;
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (!text || err) {
        diag(&ld, 0, true, "cannot read: %s", strerror(text ? err : ENOMEM));
        free(text);
        return NULL;
    }
    if (len > CONFIG_FILE_MAX) {
        diag(&ld, 0, true, "file too large (more than %d bytes)", CONFIG_FILE_MAX);
        free(text);
        return NULL;
    }
    struct config *cfg = config_load_text(text, len, ini_path, svc, diagf);
    free(text);
    return cfg;
}

/* ---- the test suite's key-coverage trace --------------------------------- */

void config_trace_keys(const struct config *cfg)
{
    const char *path = getenv("SEKISHO_KEY_TRACE");
    if (!path || !path[0])
        return;
    const char *test = getenv("SEKISHO_TEST_ID");
    /* The defaults as this service sees them: an empty file at the same
     * place (same prefix for paths, same computed host name). */
    struct config *base = config_load_text("", 0, cfg->ini_path, cfg->service, NULL);
    FILE *f = base ? fopen(path, "ae") : NULL;
    char *have = malloc(CONFIG_FORMAT_MAX), *want = malloc(CONFIG_FORMAT_MAX);
    if (f && have && want) {
        for (size_t i = 0; i < KEY_COUNT; i++) {
            const struct config_key *k = &keys[i];
            if (!config_key_valid_in(k, cfg->service) && !config_key_valid_in(k, SVC_COMMON))
                continue;
            if (cfg->service == SVC_COMMON && !config_key_valid_in(k, SVC_COMMON))
                continue;
            if (!config_format_value(cfg, k, have, CONFIG_FORMAT_MAX) ||
                !config_format_value(base, k, want, CONFIG_FORMAT_MAX) || strcmp(have, want) != 0)
                fprintf(f, "%s\t%s\t%s\n", k->name, service_name(cfg->service), test ? test : "-");
        }
    }
    if (f)
        fclose(f);
    free(have);
    free(want);
    config_free(base);
}

/* ---- formatting and documentation -------------------------------------- */

bool config_format_value(const struct config *cfg, const struct config_key *k, char *out,
                         size_t cap)
{
    const void *slot = cfield(cfg, k);
    int n = -1;
    int ev;
    switch (k->type) {
    case CONFIG_TYPE_BOOL:
        n = snprintf(out, cap, "%s", *(const bool *)slot ? "yes" : "no");
        break;
    case CONFIG_TYPE_UINT:
    case CONFIG_TYPE_PORT:
        n = snprintf(out, cap, "%u", *(const unsigned *)slot);
        break;
    case CONFIG_TYPE_U64:
        n = snprintf(out, cap, "%" PRIu64, *(const uint64_t *)slot);
        break;
    case CONFIG_TYPE_ENUM:
        memcpy(&ev, slot, sizeof(ev));
        n = snprintf(out, cap, "%s", enum_name(k->enum_type, ev));
        break;
    case CONFIG_TYPE_LIST:
    case CONFIG_TYPE_RISKWARE: {
        const struct config_list *l = slot;
        n = snprintf(out, cap, "%s", l->text ? l->text : "");
        break;
    }
    case CONFIG_TYPE_SVCPORT:
        n = snprintf(out, cap, "%s", ((const struct svcport *)slot)->text);
        break;
    default: {
        const char *s = *(char *const *)slot;
        n = snprintf(out, cap, "%s", s ? s : "");
        break;
    }
    }
    return n >= 0 && (size_t)n < cap;
}

void config_dump(const struct config *cfg, FILE *out)
{
    char buf[CONFIG_FORMAT_MAX];
    unsigned mask = sec_bit(cfg->service) | CONFIG_SEC_COMMON;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (!(keys[i].sections & mask))
            continue;
        if (!config_format_value(cfg, &keys[i], buf, sizeof(buf)))
            str_copy(buf, sizeof(buf), "(too long)");
        fprintf(out, "%s=%s\n", keys[i].name, buf);
    }
}

/* Markdown-escape the characters of doc lines that renderers would take
 * for HTML tags or emphasis. */
static void doc_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '<' || *s == '>' || *s == '*' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
}

static void doc_type(FILE *out, const struct config_key *k)
{
    switch (k->type) {
    case CONFIG_TYPE_BOOL:
        fprintf(out, "`yes` or `no`");
        break;
    case CONFIG_TYPE_UINT:
    case CONFIG_TYPE_U64:
        fprintf(out, "integer from %" PRIu64 " to %" PRIu64, k->min, k->max);
        break;
    case CONFIG_TYPE_PORT:
        fprintf(out, "TCP port, 1 to %d", PORT_MAX);
        break;
    case CONFIG_TYPE_ENUM: {
        const char *sep = "";
        for (size_t i = 0; i < sizeof(enum_values) / sizeof(enum_values[0]); i++) {
            const struct config_enum_value *e = &enum_values[i];
            if (strcmp(e->type, k->enum_type) != 0)
                continue;
            fprintf(out, "%s`%s`", sep, e->text);
            if ((e->sections & k->sections) != k->sections) {
                fprintf(out, " (");
                for (unsigned s = 0, first = 1; s < SVC_COUNT; s++) {
                    if (e->sections & k->sections & sec_bit((enum service)s)) {
                        fprintf(out, "%s%s", first ? "" : ", ", service_name((enum service)s));
                        first = 0;
                    }
                }
                fprintf(out, " only)");
            }
            sep = ", ";
        }
        break;
    }
    case CONFIG_TYPE_STRING:
        fprintf(out, "text, at most %" PRIu64 " bytes", k->max);
        break;
    case CONFIG_TYPE_ASCII:
        fprintf(out, "printable ASCII text, at most %" PRIu64 " bytes", k->max);
        break;
    case CONFIG_TYPE_UTF8:
        fprintf(out, "UTF-8 text, at most %" PRIu64 " characters", k->max);
        break;
    case CONFIG_TYPE_LIST:
        fprintf(out, "comma-separated list, at most %" PRIu64 " bytes", k->max);
        break;
    case CONFIG_TYPE_RISKWARE:
        fprintf(out,
                "`;`-separated `Category.Platform.Family` patterns, `*` for a whole component, "
                "at most %" PRIu64 " bytes",
                k->max);
        break;
    case CONFIG_TYPE_PATH:
        fprintf(out, "path, relative to the prefix unless absolute; at most %" PRIu64 " bytes",
                k->max);
        break;
    case CONFIG_TYPE_LOGDEST:
        fprintf(out, "path (relative to the prefix unless absolute) or `|command`");
        break;
    case CONFIG_TYPE_SVCPORT:
        fprintf(out, "`PPP`, `A.A.A.A:PPP`, `%%EEE:PPP`, `A.A.A.A%%EEE:PPP`, `[v6]:PPP` or "
                     "`[v6]%%EEE:PPP`");
        break;
    case CONFIG_TYPE_HOST:
        fprintf(out, "host name, IPv4 or IPv6 address; empty = none");
        break;
    case CONFIG_TYPE_URL:
        fprintf(out, "`http://` or `https://` URL, at most %" PRIu64 " bytes; empty = none",
                k->max);
        break;
    }
}

static void doc_value(FILE *out, const char *v)
{
    if (v[0] == '\0')
        fprintf(out, "empty");
    else
        fprintf(out, "`%s`", v);
}

static void doc_default(FILE *out, const struct config_key *k)
{
    bool same = true;
    const char *first = NULL;
    for (unsigned s = 0; s < SVC_COUNT; s++) {
        if (!(k->sections & sec_bit((enum service)s)) && !(k->sections & CONFIG_SEC_COMMON))
            continue;
        if (!first)
            first = k->def[s];
        else if (strcmp(first, k->def[s]) != 0)
            same = false;
    }
    if (same) {
        doc_value(out, first ? first : "");
        return;
    }
    const char *sep = "";
    for (unsigned s = 0; s < SVC_COUNT; s++) {
        if (!(k->sections & sec_bit((enum service)s)))
            continue;
        fprintf(out, "%s%s ", sep, service_name((enum service)s));
        doc_value(out, k->def[s]);
        sep = ", ";
    }
}

/* doc_built - where the key acts; a setting elsewhere is refused. */
static void doc_built(FILE *out, const struct config_key *k)
{
    if (!k->built) {
        fprintf(out, "- **not supported by this version**: any value but the default stops the "
                     "start (\"\\<key\\>: not supported by this version\")\n");
        return;
    }
    char where[64];
    built_sections(k, where, sizeof(where));
    if (k->built == k->sections)
        fprintf(out, "- acted on in: %s\n", where);
    else
        fprintf(out,
                "- acted on in: %s; **not supported by this version** elsewhere (any value but "
                "the default stops the start)\n",
                where);
}

void config_doc_write(FILE *out)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const struct config_key *k = &keys[i];
        char where[64];
        valid_sections(k, where, sizeof(where));
        fprintf(out, "### %s\n\n", k->name);
        fprintf(out, "- groups: %s\n", where);
        fprintf(out, "- type: ");
        doc_type(out, k);
        fprintf(out, "\n- default: ");
        doc_default(out, k);
        fprintf(out, "\n");
        doc_built(out, k);
        for (size_t a = 0; a < sizeof(aliases) / sizeof(aliases[0]); a++) {
            if (strcmp(aliases[a].name, k->name) == 0)
                fprintf(out, "- also accepted as: %s\n", aliases[a].alias);
        }
        fprintf(out, "\n");
        doc_text(out, k->doc);
        fprintf(out, "\n\n");
    }
}

/* admin_auth - see admin_auth.h. */
#include "admin/admin_auth.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/digest_param.h"
#include "proto/htdigest.h"

#define PENDING_MAX      128 /* challenges issued and not yet answered */
#define PENDING_LIFETIME 600 /* s: a login dialog left open longer is challenged again */
#define FAILS_MAX        256 /* client addresses remembered by the limiter */
#define NONCE_TIMEOUT    300 /* s: libmicrohttpd's nonce lifetime (stale=true after) */
#define TOKEN_BYTES      16
#define SESSION_OPAQUES  4 /* opaques one session answers to (see login below) */

struct session {
    bool used;
    char opaque[SESSION_OPAQUES][48];
    unsigned opaque_next;
    char cookie[48];
    char csrf[48];
    char user[256];
    time_t last;
};

struct pending {
    char opaque[48];
    time_t issued;
};

struct fails {
    char ip[64];
    unsigned count;
    time_t until;
    time_t last;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct session sessions[ADMIN_SESSIONS_MAX];
static struct pending pending[PENDING_MAX];
static size_t pending_next;
static struct fails fails[FAILS_MAX];

static bool random_token(char *out, size_t cap)
{
    unsigned char r[TOKEN_BYTES];
    if (cap < 2 * TOKEN_BYTES + 1 || RAND_bytes(r, sizeof(r)) != 1)
        return false;
    for (size_t i = 0; i < sizeof(r); i++)
        str_format(out + 2 * i, 3, "%02x", r[i]);
    return true;
}

bool admin_auth_init(void)
{
    char t[48];
    return random_token(t, sizeof(t));
}

static bool same_token(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && la > 0 && CRYPTO_memcmp(a, b, la) == 0;
}

/* The limiter's entry for ip (created when create). Under lock. */
static struct fails *fails_entry(const char *ip, bool create, time_t now)
{
    struct fails *oldest = &fails[0];
    for (size_t i = 0; i < FAILS_MAX; i++) {
        if (fails[i].ip[0] != 0 && strcmp(fails[i].ip, ip) == 0)
            return &fails[i];
        if (fails[i].last < oldest->last)
            oldest = &fails[i];
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof(*oldest));
    str_format(oldest->ip, sizeof(oldest->ip), "%s", ip);
    oldest->last = now;
    return oldest;
}

static void challenge(struct admin_auth_out *out, bool stale, time_t now)
{
    random_token(out->opaque, sizeof(out->opaque));
    out->stale = stale;
    pthread_mutex_lock(&lock);
    struct pending *p = &pending[pending_next++ % PENDING_MAX];
    str_format(p->opaque, sizeof(p->opaque), "%s", out->opaque);
    p->issued = now;
    pthread_mutex_unlock(&lock);
}

static struct session *session_by_opaque(const char *opaque)
{
    for (size_t i = 0; i < ADMIN_SESSIONS_MAX; i++)
        for (size_t j = 0; sessions[i].used && j < SESSION_OPAQUES; j++)
            if (sessions[i].opaque[j][0] != 0 && strcmp(sessions[i].opaque[j], opaque) == 0)
                return &sessions[i];
    return NULL;
}

static struct session *session_by_cookie(const char *cookie)
{
    for (size_t i = 0; cookie != NULL && i < ADMIN_SESSIONS_MAX; i++)
        if (sessions[i].used && same_token(sessions[i].cookie, cookie))
            return &sessions[i];
    return NULL;
}

/* The HA1 of user in conf/sekisho.htdigest. */
static bool user_ha1(const char *user, unsigned char ha1[16])
{
    char err[256];
    size_t len;
    char *text = admin_conf_file_read("sekisho.htdigest", 1024 * 1024, &len, err, sizeof(err));
    if (text == NULL) {
        admin_error(NULL, "login: %s", err);
        return false;
    }
    bool ok = htdigest_find(text, len, user, ADMIN_REALM, ha1);
    free(text);
    return ok;
}

bool admin_auth_is_default(const char *user, const unsigned char ha1[16])
{
    unsigned char def[16];
    htdigest_ha1(user, ADMIN_REALM, "admin", def);
    return CRYPTO_memcmp(def, ha1, 16) == 0;
}

static void login_failed(const struct admin_req *rq, const char *user, const char *why, time_t now)
{
    pthread_mutex_lock(&lock);
    struct fails *f = fails_entry(rq->client_ip, true, now);
    f->count++;
    f->last = now;
    unsigned count = f->count;
    if (f->count >= admin.conf.login_failures_max)
        f->until = now + (time_t)admin.conf.login_pause;
    pthread_mutex_unlock(&lock);
    admin_audit(rq->client_ip, user, "login failed (%s); %u in a row from this address", why,
                count);
}

enum admin_auth_result admin_auth_check(struct admin_req *rq, struct admin_auth_out *out)
{
    time_t now = time(NULL);
    memset(out, 0, sizeof(*out));

    pthread_mutex_lock(&lock);
    struct fails *f = fails_entry(rq->client_ip, false, now);
    if (f != NULL && f->until > now) {
        out->retry_after = (unsigned)(f->until - now);
        pthread_mutex_unlock(&lock);
        return ADMIN_AUTH_LIMITED;
    }
    if (f != NULL && f->until != 0 && f->until <= now) {
        f->count = 0; /* the pause is over: a fresh series */
        f->until = 0;
    }
    pthread_mutex_unlock(&lock);

    char *user = MHD_digest_auth_get_username(rq->conn);
    if (user == NULL) {
        challenge(out, false, now);
        return ADMIN_AUTH_CHALLENGE;
    }
    str_format(rq->user_buf, sizeof(rq->user_buf), "%s", user);
    MHD_free(user);

    unsigned char ha1[16];
    bool known = user_ha1(rq->user_buf, ha1);
    if (!known) {
        /* Same work and the same answer as a wrong password. */
        memset(ha1, 0, sizeof(ha1));
    }
    enum MHD_Result r = MHD_digest_auth_check_digest2(
        rq->conn, ADMIN_REALM, rq->user_buf, ha1, sizeof(ha1), NONCE_TIMEOUT, MHD_DIGEST_ALG_MD5);
    if ((int)r == MHD_INVALID_NONCE) {
        /* An old nonce with the right password: the browser retries on its
         * own (stale=true). A live session keeps its opaque, so the session,
         * its cookie and the CSRF token of a form on the screen go on. */
        const char *a = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
        char op[48] = "";
        bool kept = false;
        if (a != NULL && digest_param(a, strlen(a), "opaque", op, sizeof(op))) {
            pthread_mutex_lock(&lock);
            struct session *live = session_by_opaque(op);
            kept = live != NULL && strcmp(live->user, rq->user_buf) == 0 &&
                   now - live->last <= (time_t)admin.conf.session_timeout;
            pthread_mutex_unlock(&lock);
        }
        if (kept) {
            str_format(out->opaque, sizeof(out->opaque), "%s", op);
            out->stale = true;
        } else {
            challenge(out, true, now);
        }
        return ADMIN_AUTH_CHALLENGE;
    }
    if (r != MHD_YES || !known) {
        login_failed(rq, rq->user_buf, known ? "wrong password" : "unknown user", now);
        challenge(out, false, now);
        return ADMIN_AUTH_CHALLENGE;
    }

    const char *auth = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
    char opaque[48] = "";
    if (auth == NULL || !digest_param(auth, strlen(auth), "opaque", opaque, sizeof(opaque))) {
        challenge(out, false, now);
        return ADMIN_AUTH_CHALLENGE;
    }

    pthread_mutex_lock(&lock);
    struct fails *ok = fails_entry(rq->client_ip, false, now);
    if (ok != NULL)
        ok->count = 0;
    struct session *s = session_by_opaque(opaque);
    if (s != NULL && strcmp(s->user, rq->user_buf) != 0)
        s = NULL;
    if (s != NULL && now - s->last > (time_t)admin.conf.session_timeout) {
        s->used = false;
        pthread_mutex_unlock(&lock);
        admin_audit(rq->client_ip, rq->user_buf, "session timed out after %u s idle; login again",
                    admin.conf.session_timeout);
        challenge(out, false, now);
        return ADMIN_AUTH_CHALLENGE;
    }
    bool fresh = false;
    if (s == NULL) {
        /* Only an opaque we issued and nobody used yet starts a session. */
        struct pending *p = NULL;
        for (size_t i = 0; i < PENDING_MAX; i++)
            if (pending[i].opaque[0] != 0 && strcmp(pending[i].opaque, opaque) == 0 &&
                now - pending[i].issued <= PENDING_LIFETIME)
                p = &pending[i];
        if (p == NULL) {
            pthread_mutex_unlock(&lock);
            challenge(out, false, now);
            return ADMIN_AUTH_CHALLENGE;
        }
        p->opaque[0] = 0;
        /* A browser keeps digest credentials per directory: after a first
         * page /settings/http, its requests for /favicon.ico or /logs are
         * challenged afresh and answered with a new opaque. The live
         * session its cookie names goes on, answering to that opaque
         * too: a new session would replace the cookie, and the form on
         * the screen (the old session's CSRF token) would be refused. */
        struct session *same = session_by_cookie(
            MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, ADMIN_COOKIE_SESSION));
        if (same != NULL && strcmp(same->user, rq->user_buf) == 0 &&
            now - same->last <= (time_t)admin.conf.session_timeout) {
            str_format(same->opaque[same->opaque_next++ % SESSION_OPAQUES], sizeof(same->opaque[0]),
                       "%s", opaque);
            s = same;
        }
    }
    if (s == NULL) {
        struct session *slot = &sessions[0];
        for (size_t i = 0; i < ADMIN_SESSIONS_MAX; i++) {
            if (!sessions[i].used) {
                slot = &sessions[i];
                break;
            }
            if (sessions[i].last < slot->last)
                slot = &sessions[i];
        }
        memset(slot, 0, sizeof(*slot));
        slot->used = true;
        str_format(slot->opaque[0], sizeof(slot->opaque[0]), "%s", opaque);
        slot->opaque_next = 1;
        str_format(slot->user, sizeof(slot->user), "%s", rq->user_buf);
        random_token(slot->cookie, sizeof(slot->cookie));
        random_token(slot->csrf, sizeof(slot->csrf));
        s = slot;
        fresh = true;
    }
    s->last = now;
    str_format(rq->csrf_buf, sizeof(rq->csrf_buf), "%s", s->csrf);
    if (fresh)
        str_format(out->set_cookie, sizeof(out->set_cookie),
                   ADMIN_COOKIE_SESSION "=%s; Path=/; HttpOnly; SameSite=Strict%s", s->cookie,
                   admin.tls ? "; Secure" : "");
    else {
        /* A session whose cookie the browser lost gets it again. */
        const char *c =
            MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, ADMIN_COOKIE_SESSION);
        if (c == NULL || !same_token(c, s->cookie))
            str_format(out->set_cookie, sizeof(out->set_cookie),
                       ADMIN_COOKIE_SESSION "=%s; Path=/; HttpOnly; SameSite=Strict%s", s->cookie,
                       admin.tls ? "; Secure" : "");
    }
    pthread_mutex_unlock(&lock);

    if (fresh)
        admin_audit(rq->client_ip, rq->user_buf, "login");
    rq->user = rq->user_buf;
    rq->csrf = rq->csrf_buf;
    rq->must_change_password = admin_auth_is_default(rq->user_buf, ha1);
    return ADMIN_AUTH_OK;
}

bool admin_auth_csrf_ok(const struct admin_req *rq)
{
    const char *token = admin_field(rq, "csrf");
    const char *cookie =
        MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, ADMIN_COOKIE_SESSION);
    if (token == NULL || cookie == NULL || rq->csrf == NULL)
        return false;
    bool ok = false;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < ADMIN_SESSIONS_MAX; i++)
        if (sessions[i].used && same_token(sessions[i].csrf, rq->csrf) &&
            same_token(sessions[i].cookie, cookie) && same_token(sessions[i].csrf, token))
            ok = true;
    pthread_mutex_unlock(&lock);
    return ok;
}

void admin_auth_logout(const struct admin_req *rq)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < ADMIN_SESSIONS_MAX; i++)
        if (sessions[i].used && rq->csrf != NULL && same_token(sessions[i].csrf, rq->csrf))
            sessions[i].used = false;
    pthread_mutex_unlock(&lock);
}

void admin_auth_end_user(const char *user)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < ADMIN_SESSIONS_MAX; i++)
        if (sessions[i].used && strcmp(sessions[i].user, user) == 0)
            sessions[i].used = false;
    pthread_mutex_unlock(&lock);
}

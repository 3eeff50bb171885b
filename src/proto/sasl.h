/* sasl - the client's half of an SMTP AUTH exchange, PLAIN and LOGIN.
 *
 * What it does: reads the argument of "AUTH <mechanism> [initial-response]"
 * (RFC 4954 4), the client's responses of the two mechanisms the proxy
 * checks itself (spec SMTP-8, G-21): PLAIN, one base64 message
 * "[authzid] NUL authcid NUL passwd" (RFC 4616 2), sent as the initial
 * response or after "334 "; LOGIN, a base64 user name after
 * "334 VXNlcm5hbWU6" and a base64 password after "334 UGFzc3dvcmQ6" (the
 * draft-murchison-sasl-login exchange), and the "*" that cancels either
 * (RFC 4954 4, answered 501). The base64 is proto/base64_strict's: only the
 * canonical encoding, so that the proxy and PAM can never read two
 * different user names out of one response.
 *
 * Every field is 1..SASL_FIELD_MAX bytes (authzid 0..SASL_FIELD_MAX), with
 * no NUL, CR or LF. RFC 4616 allows CR and LF in PLAIN fields; they are
 * refused in both mechanisms alike, so that one account cannot be named
 * differently by the two, and no line end reaches a log line (the user
 * name goes to the access log, SMTP-8) or a PAM conversation.
 *
 * What it owns: nothing. sasl_auth_parse returns views into the caller's
 * bytes; the decoders copy the fields into the caller's bounded struct
 * sasl_field (NUL-terminated for PAM), all or nothing: on any refusal the
 * outputs are zeroed. The decoded bytes pass through one stack buffer,
 * wiped before return; the caller wipes its own copies (explicit_bzero)
 * once the password is checked.
 *
 * What it does not do: no I/O, no allocation, no session state (which step
 * of LOGIN comes next, the 334 prompts, the replies 235/501/504/535 are the
 * SMTP session's), no policy (whether an authzid other than the authcid is
 * refused: it is reported).
 */
#ifndef SEKISHO_PROTO_SASL_H
#define SEKISHO_PROTO_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"
#include "proto/base64_strict.h"

/* The longest user name, password or authorization identity (RFC 4616 2
 * allows 255 octets for each of PLAIN's; LOGIN is held to the same). */
#define SASL_FIELD_MAX 255
/* A SASL mechanism name is 1 to 20 characters (RFC 4422 3.1). */
#define SASL_MECH_MAX 20
/* The longest PLAIN message: three fields and two NULs. */
#define SASL_PLAIN_MAX (3 * SASL_FIELD_MAX + 2)
/* The longest base64 PLAIN response (1024 characters): the longest line a
 * client sends after "334 ", line end excluded. */
#define SASL_PLAIN_B64_MAX BASE64_ENCODED_LEN(SASL_PLAIN_MAX)
/* The longest base64 LOGIN response (340 characters). */
#define SASL_LOGIN_B64_MAX BASE64_ENCODED_LEN(SASL_FIELD_MAX)
/* The longest AUTH argument of PLAIN or LOGIN with an initial response:
 * mechanism, SP, the base64 message (1045). */
#define SASL_ARG_MAX (SASL_MECH_MAX + 1 + SASL_PLAIN_B64_MAX)

enum sasl_mech {
    SASL_MECH_PLAIN = 0,
    SASL_MECH_LOGIN,
    SASL_MECH_OTHER, /* a well-formed name the proxy does not check (504) */
};
/* "PLAIN", "LOGIN", "OTHER", "?" out of range. */
const char *sasl_mech_name(enum sasl_mech m);

struct sasl_auth {
    enum sasl_mech mech;
    struct str mechanism; /* the name as sent */
    bool has_initial;     /* an initial response followed the name */
    struct str initial;   /* its base64; empty for "=" (RFC 4954 4) */
};

/* sasl_auth_parse - the argument of AUTH (proto/smtp_parse's arg: after
 * the verb and its blanks, right-trimmed): a mechanism name of 1 to
 * SASL_MECH_MAX characters A-Z a-z 0-9 '-' '_' (RFC 4422 3.1, compared
 * without case), then either nothing or one SP and an initial response
 * that is "=" or 1 or more base64 characters (A-Z a-z 0-9 + / =; whether
 * they are canonical base64 is the decoder's question). false (out zeroed)
 * for anything else: an empty argument, a bad name, two blanks, a blank
 * or a third word after the response. */
bool sasl_auth_parse(struct str arg, struct sasl_auth *out);

/* sasl_is_cancel - whether a client's response line (line end excluded)
 * is the "*" that cancels the exchange (RFC 4954 4: answered 501). */
bool sasl_is_cancel(struct str line);

enum sasl_result {
    SASL_OK = 0,
    SASL_CANCEL,     /* the response was "*" */
    SASL_BAD_BASE64, /* not canonical base64 (RFC 4954 4: 501) */
    SASL_MALFORMED,  /* not a message of the mechanism, or longer than any (535) */
};
/* "OK", "CANCEL", "BAD_BASE64", "MALFORMED", "?" out of range. */
const char *sasl_result_name(enum sasl_result r);

/* One decoded field: bytes[0..len), NUL-terminated, no NUL inside. */
struct sasl_field {
    char bytes[SASL_FIELD_MAX + 1];
    size_t len;
};

struct sasl_plain {
    struct sasl_field authzid; /* empty when the client sent none */
    struct sasl_field user;    /* the authcid */
    struct sasl_field password;
    /* An authzid was sent and differs from the authcid: the client asks to
     * act as someone else, which the proxy refuses (its PAM check knows no
     * such right). An authzid equal to the authcid is no such request. */
    bool authzid_other;
};

/* sasl_plain_decode - a PLAIN response: the initial response of AUTH
 * (sasl_auth.initial, "" for "=") or the line after "334 ". "*" is
 * SASL_CANCEL. The decoded message must hold exactly two NULs, an authcid
 * and a password of 1..SASL_FIELD_MAX bytes and an authzid of
 * 0..SASL_FIELD_MAX, none with CR or LF. */
enum sasl_result sasl_plain_decode(struct str b64, struct sasl_plain *out);

/* sasl_login_decode - one LOGIN response (the user name after
 * "334 VXNlcm5hbWU6", the password after "334 UGFzc3dvcmQ6", or the user
 * name as AUTH LOGIN's initial response): 1..SASL_FIELD_MAX bytes with no
 * NUL, CR or LF. "*" is SASL_CANCEL. */
enum sasl_result sasl_login_decode(struct str b64, struct sasl_field *out);

#endif

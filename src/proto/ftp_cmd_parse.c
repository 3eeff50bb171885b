/* ftp_cmd_parse - see ftp_cmd_parse.h. */
#include "proto/ftp_cmd_parse.h"

#include <string.h>

#include "proto/text_line.h"

#define TELNET_IAC     0xff
#define TELNET_CMD_MIN 240 /* SE; 240-254 are the Telnet commands (RFC 854) */

const char *ftp_cmd_result_name(enum ftp_cmd_result r)
{
    switch (r) {
    case FTP_CMD_DONE:
        return "DONE";
    case FTP_CMD_AGAIN:
        return "AGAIN";
    case FTP_CMD_INVALID:
        return "INVALID";
    case FTP_CMD_TOO_LONG:
        return "TOO_LONG";
    }
    return "?";
}

static const struct {
    enum ftp_verb verb;
    const char *name;
} verbs[] = {
    {FTP_V_USER, "USER"}, {FTP_V_PASS, "PASS"}, {FTP_V_ACCT, "ACCT"}, {FTP_V_CWD, "CWD"},
    {FTP_V_CDUP, "CDUP"}, {FTP_V_SMNT, "SMNT"}, {FTP_V_REIN, "REIN"}, {FTP_V_QUIT, "QUIT"},
    {FTP_V_PORT, "PORT"}, {FTP_V_PASV, "PASV"}, {FTP_V_TYPE, "TYPE"}, {FTP_V_STRU, "STRU"},
    {FTP_V_MODE, "MODE"}, {FTP_V_RETR, "RETR"}, {FTP_V_STOR, "STOR"}, {FTP_V_STOU, "STOU"},
    {FTP_V_APPE, "APPE"}, {FTP_V_ALLO, "ALLO"}, {FTP_V_REST, "REST"}, {FTP_V_RNFR, "RNFR"},
    {FTP_V_RNTO, "RNTO"}, {FTP_V_ABOR, "ABOR"}, {FTP_V_DELE, "DELE"}, {FTP_V_RMD, "RMD"},
    {FTP_V_MKD, "MKD"},   {FTP_V_PWD, "PWD"},   {FTP_V_LIST, "LIST"}, {FTP_V_NLST, "NLST"},
    {FTP_V_SITE, "SITE"}, {FTP_V_SYST, "SYST"}, {FTP_V_STAT, "STAT"}, {FTP_V_HELP, "HELP"},
    {FTP_V_NOOP, "NOOP"}, {FTP_V_XCWD, "XCWD"}, {FTP_V_XCUP, "XCUP"}, {FTP_V_XMKD, "XMKD"},
    {FTP_V_XRMD, "XRMD"}, {FTP_V_XPWD, "XPWD"}, {FTP_V_LPRT, "LPRT"}, {FTP_V_LPSV, "LPSV"},
    {FTP_V_AUTH, "AUTH"}, {FTP_V_ADAT, "ADAT"}, {FTP_V_PBSZ, "PBSZ"}, {FTP_V_PROT, "PROT"},
    {FTP_V_CCC, "CCC"},   {FTP_V_MIC, "MIC"},   {FTP_V_CONF, "CONF"}, {FTP_V_ENC, "ENC"},
    {FTP_V_FEAT, "FEAT"}, {FTP_V_OPTS, "OPTS"}, {FTP_V_EPRT, "EPRT"}, {FTP_V_EPSV, "EPSV"},
    {FTP_V_LANG, "LANG"}, {FTP_V_SIZE, "SIZE"}, {FTP_V_MDTM, "MDTM"}, {FTP_V_MLSD, "MLSD"},
    {FTP_V_MLST, "MLST"}, {FTP_V_HOST, "HOST"},
};

const char *ftp_verb_name(enum ftp_verb v)
{
    if (v == FTP_V_UNKNOWN)
        return "UNKNOWN";
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (verbs[i].verb == v)
            return verbs[i].name;
    return "?";
}

static enum ftp_verb verb_lookup(struct str w)
{
    if (w.len < 3 || w.len > 4)
        return FTP_V_UNKNOWN;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (str_caseeq_cstr(w, verbs[i].name))
            return verbs[i].verb;
    return FTP_V_UNKNOWN;
}

bool ftp_verb_opens_data(enum ftp_verb v)
{
    switch (v) {
    case FTP_V_RETR:
    case FTP_V_STOR:
    case FTP_V_STOU:
    case FTP_V_APPE:
    case FTP_V_LIST:
    case FTP_V_NLST:
    case FTP_V_MLSD:
        return true;
    default:
        return false;
    }
}

bool ftp_verb_is_upload(enum ftp_verb v)
{
    return v == FTP_V_STOR || v == FTP_V_STOU || v == FTP_V_APPE;
}

/* is_bad_ctl - a control byte other than HT, or DEL. */
static bool is_bad_ctl(char c)
{
    return ((unsigned char)c < 0x20 && c != '\t') || c == 0x7f;
}

size_t ftp_line_discard(const char *buf, size_t len, bool *ended)
{
    return text_line_discard(buf, len, ended);
}

struct str ftp_arg_trim(struct str arg)
{
    return text_line_trim(arg);
}

/* telnet_prefix - the length of the Telnet commands at the start of
 * p[0..n), or -1 for an IAC IAC there (an escaped data byte where a verb
 * must start). */
static long telnet_prefix(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (unsigned char)p[i] == TELNET_IAC) {
        if (i + 1 == n)
            return (long)n; /* a lone IAC at the end: nothing follows */
        unsigned char c = (unsigned char)p[i + 1];
        if (c == TELNET_IAC)
            return -1;
        if (c < TELNET_CMD_MIN) {
            i++; /* a lone IAC: its DM was taken out of band */
        } else if (c >= 251) {
            i += 3; /* WILL, WONT, DO, DONT <option> */
        } else {
            i += 2; /* IP, DM, AO, AYT, ... */
        }
    }
    return (long)(i < n ? i : n);
}

enum ftp_cmd_result ftp_command_find(const char *buf, size_t len, struct ftp_command *out,
                                     size_t *consumed)
{
    size_t line_len = 0, used = 0;
    switch (text_line_find(buf, len, FTP_CMD_LINE_MAX, &line_len, &used)) {
    case TEXT_LINE_DONE:
        break;
    case TEXT_LINE_TOO_LONG:
        return FTP_CMD_TOO_LONG;
    default:
        return FTP_CMD_AGAIN;
    }
    const char *p = buf;
    *consumed = used;
    *out = (struct ftp_command){.line = str_make(p, line_len)};
    long pre = telnet_prefix(p, line_len);
    bool bad = pre < 0;
    size_t i = pre < 0 ? 0 : (size_t)pre;
    out->telnet_prefix = i > 0;
    while (i < line_len && text_line_is_blank(p[i]))
        i++;
    out->command = str_make(p + i, line_len - i);
    size_t v = i;
    while (i < line_len && !text_line_is_blank(p[i]))
        i++;
    out->verb_text = str_make(p + v, i - v);
    if (i < line_len)
        i++; /* the one separating blank */
    out->arg = str_make(p + i, line_len - i);
    if (out->telnet_prefix && out->command.len == 0)
        bad = true;
    for (size_t k = pre < 0 ? 0 : (size_t)pre; k < line_len && !bad; k++)
        if (is_bad_ctl(p[k]) || (unsigned char)p[k] == TELNET_IAC)
            bad = true;
    if (bad)
        return FTP_CMD_INVALID;
    out->verb = verb_lookup(out->verb_text);
    return FTP_CMD_DONE;
}

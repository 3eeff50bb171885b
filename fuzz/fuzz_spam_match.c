/* fuzz_spam_match - libFuzzer target for proto/spam_match and
 * proto/received_ips.
 *
 * Input: when it holds a form feed (0x0c), the bytes before the first one
 * are a custom rule file and the bytes after it the mail; otherwise the
 * whole input is the mail and a fixed rule set (every field and modifier,
 * AND and AND_SAMEPART chains) is used. A rule file the parser refuses
 * falls back to the fixed set. The mail is copied into a buffer of exactly
 * its size (ASan catches a read past it). Besides crashes, it checks the
 * promises: at most SPAM_RELAY_MAX relays, each distinct and already in
 * canonical form; at most URL_HOSTS_MAX hosts; a NONE verdict has line 0
 * and no name; a BLACK or WHITE verdict names the line of a rule with that
 * judgment, and BLACK its detection name; the same input gives the same
 * result twice (no state leaks between calls).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/received_ips.h"
#include "proto/spam_match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed[] = "# fixed rules of the fuzz target\n"
                            "BLACK\tSubject\tIGNORECASE\tviagra,%xe5%xae%x8c\n"
                            "NONE\tContent-Type\t\tapplication/zip\n"
                            "BLACK\tFILENAME\tAND_SAMEPART,TAILMATCH,IGNORECASE\t.exe\n"
                            "NONE\tURLHOST\tTAILMATCH\t.example\n"
                            "BLACK\tHTMLBODY\tAND_SAMEPART\tclick here\n"
                            "WHITE\tFrom\tIGNORECASE\tfriend@\n"
                            "NONE\tTEXTBODY\tHEADMATCH\tBEGIN\n"
                            "BLACK\tTEXTBODY\tAND,TAILMATCH\tEND\n"
                            "BLACK\tRELAYIP\tHEADMATCH\t192.0.2.\n"
                            "BLACK\tFILESIZE\tHEADMATCH,TAILMATCH\t666\n"
                            "NONE\tX-Spam\tNOT\tno\n"
                            "BLACK\tTEXTBODY\tAND_SAMEPART,IGNORECASE\tcasino\n"
                            "BLACK\tReceived\tHEADMATCH\tfrom evil\n";

static struct spam_rule rules[SPAM_RULES_MAX];
static struct spam_mail_facts facts;

static unsigned load(const char *text, size_t len)
{
    struct spam_rule_parser p;
    struct spam_rule_error e;
    unsigned n = 0;
    enum spam_rule_result r;
    spam_rule_parser_init(&p, text, len);
    while ((r = spam_rule_next(&p, &rules[n], &e)) == SPAM_RULE_RULE)
        n++;
    return r == SPAM_RULE_END ? n : UINT32_MAX;
}

static void check(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *ff = memchr(data, '\f', size);
    unsigned n = UINT32_MAX;
    const uint8_t *mail = data;
    size_t mlen = size;
    if (ff) {
        n = load((const char *)data, (size_t)(ff - data));
        mail = ff + 1;
        mlen = size - (size_t)(ff - data) - 1;
    }
    if (n == UINT32_MAX)
        n = load(fixed, sizeof(fixed) - 1);
    check(n != UINT32_MAX);
    char *m = malloc(mlen ? mlen : 1);
    if (!m)
        return 0;
    memcpy(m, mail, mlen);
    const char *ip = (mlen & 1) ? "192.0.2.1" : NULL;

    struct spam_match_result a, b;
    spam_mail_examine(rules, n, m, mlen, ip, &facts, &a);
    check(facts.nrelay <= SPAM_RELAY_MAX && facts.hosts.n <= URL_HOSTS_MAX);
    for (unsigned i = 0; i < facts.nrelay; i++) {
        char canon[RECEIVED_ADDR_MAX];
        check(received_canonical(str_from_cstr(facts.relay[i]), canon));
        check(strcmp(canon, facts.relay[i]) == 0);
        for (unsigned j = 0; j < i; j++)
            check(strcmp(facts.relay[i], facts.relay[j]) != 0);
    }
    if (ip)
        check(facts.nrelay >= 1 && strcmp(facts.relay[0], "192.0.2.1") == 0);
    if (a.verdict == SPAM_MATCH_NONE) {
        check(a.line == 0 && a.name[0] == '\0');
    } else {
        unsigned k = 0;
        while (k < n && rules[k].line != a.line)
            k++;
        check(k < n);
        enum spam_rule_judgment j =
            a.verdict == SPAM_MATCH_BLACK ? SPAM_RULE_BLACK : SPAM_RULE_WHITE;
        check(rules[k].judgment == j);
        if (j == SPAM_RULE_BLACK)
            check(strncmp(a.name, "SEKISHO/SPAM_LIST/CUSTOM/", 25) == 0 &&
                  strlen(a.name) <= SPAM_RULE_DETECTION_NAME_MAX);
        else
            check(a.name[0] == '\0');
    }
    unsigned nrelay = facts.nrelay;
    size_t nhosts = facts.hosts.n;
    spam_mail_examine(rules, n, m, mlen, ip, &facts, &b);
    check(memcmp(&a, &b, sizeof(a)) == 0 && nrelay == facts.nrelay && nhosts == facts.hosts.n);
    free(m);
    return 0;
}

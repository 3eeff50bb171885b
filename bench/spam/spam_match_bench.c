/* spam_match_bench - throughput of proto/spam_match: a 10 MB mail (5 MB text/plain
 * with a URL per line, 5 MB base64 text/html, CRLF) against 100 rules over
 * every body field, none matching. Build: cc -std=c11 -D_GNU_SOURCE -O2 -Isrc
 * bench/spam/spam_match_bench.c build/libsekisho.a -o /tmp/spam_match_bench
 * (docs/internals/spam-match.md has the figure). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "proto/spam_match.h"
static struct spam_rule rules[100];
static struct spam_mail_facts facts;
int main(void)
{
    /* 100 rules: a mix of all fields, none matching, so every rule reads the whole mail */
    static char rt[100 * 200];
    size_t o = 0;
    static const char *f[] = {"TEXTBODY\t\t",           "TEXTBODY\tIGNORECASE\t",
                              "HTMLBODY\t\t",           "TEXTBODY\tHEADMATCH\t",
                              "Subject\tIGNORECASE\t",  "URLHOST\tTAILMATCH\t",
                              "FILENAME\t\t",           "TEXTBODY\tTAILMATCH\t",
                              "HTMLBODY\tIGNORECASE\t", "From\t\t"};
    for (int i = 0; i < 100; i++)
        o += snprintf(rt + o, sizeof(rt) - o, "BLACK\t%sword%dnotthere,other%dphrase\n", f[i % 10],
                      i, i);
    struct spam_rule_parser p;
    struct spam_rule_error e;
    unsigned n = 0;
    spam_rule_parser_init(&p, rt, o);
    while (spam_rule_next(&p, &rules[n], &e) == SPAM_RULE_RULE)
        n++;
    size_t size = 10u << 20;
    char *m = malloc(size + 1000);
    size_t mo = 0;
    mo += sprintf(m, "From: a@example.com\r\nSubject: bench\r\nReceived: from x (x "
                     "[192.0.2.1])\r\nContent-Type: multipart/mixed; "
                     "boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n");
    size_t half = size / 2;
    while (mo < half)
        mo += sprintf(
            m + mo,
            "The quick brown fox jumps over the lazy dog http://h%zu.example/ 0123456789\r\n",
            mo % 97);
    mo += sprintf(m + mo,
                  "--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    while (mo < size - 100)
        mo += sprintf(
            m + mo,
            "PGRpdj5UaGUgcXVpY2sgYnJvd24gZm94IGp1bXBzIG92ZXIgdGhlIGxhenkgZG9nPC9kaXY+DQo=\r\n");
    mo += sprintf(m + mo, "--b--\r\n");
    struct spam_match_result r;
    for (int k = 0; k < 4; k++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        spam_mail_examine(rules, n, m, mo, "198.51.100.1", &facts, &r);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
        printf("rules=%u mail=%zu bytes verdict=%d hosts=%zu relays=%u time=%.3f s => %.1f MB/s\n",
               n, mo, r.verdict, facts.hosts.n, facts.nrelay, s, mo / 1e6 / s);
    }
    n = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    spam_mail_examine(rules, 0, m, mo, NULL, &facts, &r);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    printf("rules=0 (facts only) time=%.3f s => %.1f MB/s\n", s, mo / 1e6 / s);
}

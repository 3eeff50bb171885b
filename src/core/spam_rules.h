/* spam_rules - the custom spam rules of a mail service, loaded.
 *
 * <spam_dir>/files.txt says whether the CUSTOM list is on and which file
 * holds it (SPAM-4: "CUSTOM<TAB>custom.txt"); that file holds at most 100
 * rules (proto/spam_rule_parse reads both texts). The master loads them
 * with the rest of a service's resources at start and on SIGHUP: a file
 * with an error is reported as "<path>:<line>: <reason>" and refuses the
 * start, or the reload, which keeps the old rules with the old
 * configuration (master.c reload). The workers inherit the loaded rules
 * read-only.
 *
 * No files.txt, or no CUSTOM line in it: no custom rules (the guide's
 * default installation has none active). files.txt naming a file that
 * does not exist is an error: the administrator asked for rules.
 */
#ifndef SEKISHO_CORE_SPAM_RULES_H
#define SEKISHO_CORE_SPAM_RULES_H

#include <stdio.h>

#include "proto/spam_rule_parse.h"

/* Biggest files.txt / rule file read (100 rules of at most 4095 bytes,
 * comments and blank lines besides). */
#define SPAM_RULES_FILE_MAX (1024u * 1024u)

struct spam_rules {
    unsigned n;              /* rules, 0..SPAM_RULES_MAX */
    struct spam_rule *rules; /* n of them, in file order */
    char path[4096];         /* the rule file, "" when no CUSTOM line */
};

/* spam_rules_load - the rules of dir; NULL after writing each problem to
 * diag as "<file>:<line>: <reason>" (line 0 omitted for whole-file
 * problems). */
struct spam_rules *spam_rules_load(const char *dir, FILE *diag);
void spam_rules_free(struct spam_rules *r);

#endif

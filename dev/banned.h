/* banned.h - libc calls that Sekisho code must not use.
 *
 * Included into every translation unit by the Makefile (-include). Each
 * banned function is redeclared with a deprecation attribute, so with
 * -Werror a call no longer compiles. Use the bounded replacements in
 * src/lib/str.h (str_copy, buf_printf) or snprintf/strtol instead.
 */
#ifndef SEKISHO_BANNED_H
#define SEKISHO_BANNED_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEKISHO_BANNED(why) __attribute__((deprecated(why)))
char *strcpy(char *, const char *) SEKISHO_BANNED("use str_copy");
char *strcat(char *, const char *) SEKISHO_BANNED("use str_copy");
int sprintf(char *, const char *, ...) SEKISHO_BANNED("use snprintf");
char *gets(char *) SEKISHO_BANNED("use fgets");
char *strtok(char *, const char *) SEKISHO_BANNED("use strtok_r or a parser");
/* clang at -O2 sees glibc's inline atoi first and would warn that the
 * attribute comes too late; gcc builds still enforce the ban. */
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wignored-attributes"
#endif
int atoi(const char *) SEKISHO_BANNED("use strtol with checks");
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
#endif

/* mail_date - the date of a mail header line (RFC 5322 3.3, the RFC 822
 * form the guide's "RFC822 format" means): "Sun, 06 Dec 2026 23:24:09
 * +0000", in local time with its offset. One place for every Date:,
 * Received: and notification header the gateway writes. */
#ifndef SEKISHO_LIB_MAIL_DATE_H
#define SEKISHO_LIB_MAIL_DATE_H

#include <stddef.h>
#include <time.h>

/* Enough for every date mail_date writes (31 bytes and the NUL). */
#define MAIL_DATE_MAX 64

/* mail_date - t as a header date into out[0..cap) ("" when it does not
 * fit or t cannot be converted). */
void mail_date(time_t t, char *out, size_t cap);

#endif

/* db_version - the one line that describes a definitions database (see
 * db_version.h).
 *
 * Dates are computed here (days to civil date, proleptic Gregorian) rather
 * than with gmtime_r, which may read the TZ environment on its first call:
 * this layer does no I/O and reads no globals.
 */
#include "proto/db_version.h"

#include <stdio.h>

#include "lib/str.h"

#define SECONDS_PER_DAY 86400
/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z as unix times. */
#define TIME_MIN (-62167219200ll)
#define TIME_MAX 253402300799ll

/* civil_from_days - days since 1970-01-01 to year, month (1-12), day
 * (1-31); H. Hinnant's algorithm, exact for every day of the range. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468; /* days from 0000-03-01 to 1970-01-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                                    /* March = 0 */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t db_version_time_format(int64_t t, char *out, size_t cap)
{
    int n;
    if (t < TIME_MIN || t > TIME_MAX) {
        n = snprintf(out, cap, "unknown");
    } else {
        int64_t days = t / SECONDS_PER_DAY, secs = t % SECONDS_PER_DAY;
        if (secs < 0) {
            secs += SECONDS_PER_DAY;
            days--;
        }
        int64_t y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        n = snprintf(out, cap, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d,
                     (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
    }
    return n < 0 ? 0 : (size_t)n;
}

size_t db_version_format(const struct db_version_entry *e, char *out, size_t cap)
{
    char name[DB_VERSION_NAME_MAX + 1];
    size_t len = str_copy(name, sizeof(name), e->name);
    for (size_t i = 0; i < len && i < sizeof(name) - 1; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            name[i] = '?';
    }
    char version[16];
    if (e->version == 0)
        str_copy(version, sizeof(version), "custom");
    else
        snprintf(version, sizeof(version), "%u", (unsigned)e->version);
    char built[DB_VERSION_TIME_MAX];
    db_version_time_format(e->built, built, sizeof(built));
    int n = snprintf(out, cap, "%s version=%s signatures=%llu built=%s", name, version,
                     (unsigned long long)e->signatures, built);
    return n < 0 ? 0 : (size_t)n;
}

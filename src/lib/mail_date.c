/* mail_date - see mail_date.h. */
#include "lib/mail_date.h"

void mail_date(time_t t, char *out, size_t cap)
{
    struct tm tm;
    if (cap == 0)
        return;
    out[0] = '\0';
    if (localtime_r(&t, &tm) && strftime(out, cap, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
        out[0] = '\0';
}

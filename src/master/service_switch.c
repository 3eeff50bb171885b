/* service_switch - the <svc>_service keys. */
#include "master/service_switch.h"

bool service_switch_on(const struct config *cfg)
{
    switch (cfg->service) {
    case SVC_HTTP:
        return cfg->http_service;
    case SVC_SMTP:
        return cfg->smtp_service;
    case SVC_POP:
        return cfg->pop_service;
    case SVC_FTP:
        return cfg->ftp_service;
    default:
        return false;
    }
}

enum service_switch_status service_switch_report(const struct config *cfg, bool built, FILE *out)
{
    const char *svc = service_name(cfg->service);
    bool on = service_switch_on(cfg);
    fprintf(out, "%s_service=%s in %s\n", svc, on ? "yes" : "no", cfg->ini_path);
    if (!on)
        return SERVICE_SWITCH_OFF;
    if (!built) {
        fprintf(out, "the %s service is not implemented in this version of sekisho\n", svc);
        return SERVICE_SWITCH_NOT_BUILT;
    }
    return SERVICE_SWITCH_ON;
}

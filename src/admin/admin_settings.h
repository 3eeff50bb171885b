/* admin_settings - the rows of the Proxy settings pages
 * (setting_labels.def): which keys each page shows, in which group, with
 * which label and help text in each language. */
#ifndef SEKISHO_ADMIN_ADMIN_SETTINGS_H
#define SEKISHO_ADMIN_ADMIN_SETTINGS_H

#include "admin/admin.h"

enum setting_page { PAGE_HTTP = 0, PAGE_SMTP, PAGE_POP, PAGE_FTP, PAGE_COMMON, PAGE_COUNT };

enum setting_group {
#define SETTING_GROUP(id, en, ja) GROUP_##id,
#include "admin/setting_labels.def"
#undef SETTING_GROUP
    GROUP_COUNT,
};

struct setting_row {
    const char *key;
    enum setting_page page;
    enum setting_group group;
    const char *label[ADMIN_LANG_COUNT];
    const char *help_ja; /* the English help is the key's doc (config_keys.def) */
};

size_t setting_row_count(void);
const struct setting_row *setting_row_at(size_t i);
const char *setting_group_title(enum setting_group g, enum admin_lang lang);
/* setting_page_service - the ini group of a page (SVC_COMMON for COMMON). */
enum service setting_page_service(enum setting_page p);

#endif

/* admin_settings - see admin_settings.h. */
#include "admin/admin_settings.h"

static const struct setting_row rows[] = {
#define SETTING_LABEL(key, page, group, en, ja, help_ja)                                           \
    {#key, PAGE_##page, GROUP_##group, {en, ja}, help_ja},
#include "admin/setting_labels.def"
#undef SETTING_LABEL
};

static const char *const group_titles[GROUP_COUNT][ADMIN_LANG_COUNT] = {
#define SETTING_GROUP(id, en, ja) [GROUP_##id] = {en, ja},
#include "admin/setting_labels.def"
#undef SETTING_GROUP
};

size_t setting_row_count(void)
{
    return sizeof(rows) / sizeof(rows[0]);
}

const struct setting_row *setting_row_at(size_t i)
{
    return i < setting_row_count() ? &rows[i] : NULL;
}

const char *setting_group_title(enum setting_group g, enum admin_lang lang)
{
    return (unsigned)g < GROUP_COUNT ? group_titles[g][lang == ADMIN_LANG_JA] : "";
}

enum service setting_page_service(enum setting_page p)
{
    static const enum service map[PAGE_COUNT] = {SVC_HTTP, SVC_SMTP, SVC_POP, SVC_FTP, SVC_COMMON};
    return (unsigned)p < PAGE_COUNT ? map[p] : SVC_COMMON;
}

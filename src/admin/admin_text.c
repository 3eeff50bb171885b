/* admin_text - see admin_text.h. */
#include "admin/admin_text.h"

#include <strings.h>

static const char *const texts[ADMIN_TEXT_COUNT][ADMIN_LANG_COUNT] = {
#define ADMIN_TEXT(id, en, ja) [id] = {en, ja},
#include "admin/admin_text.def"
#undef ADMIN_TEXT
};

const char *admin_text(enum admin_lang lang, enum admin_text_id id)
{
    if ((unsigned)id >= ADMIN_TEXT_COUNT)
        return "";
    if ((unsigned)lang >= ADMIN_LANG_COUNT)
        lang = ADMIN_LANG_EN;
    return texts[id][lang];
}

bool admin_lang_parse(const char *s, enum admin_lang *out)
{
    if (s == NULL)
        return false;
    if (strcasecmp(s, "en") == 0) {
        *out = ADMIN_LANG_EN;
        return true;
    }
    if (strcasecmp(s, "ja") == 0) {
        *out = ADMIN_LANG_JA;
        return true;
    }
    return false;
}

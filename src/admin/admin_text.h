/* admin_text - the console's texts in the viewer's language
 * (admin_text.def). */
#ifndef SEKISHO_ADMIN_ADMIN_TEXT_H
#define SEKISHO_ADMIN_ADMIN_TEXT_H

#include "admin/admin.h"

enum admin_text_id {
#define ADMIN_TEXT(id, en, ja) id,
#include "admin/admin_text.def"
#undef ADMIN_TEXT
    ADMIN_TEXT_COUNT,
};

/* admin_text - the text in lang. */
const char *admin_text(enum admin_lang lang, enum admin_text_id id);
/* admin_lang_code - "en", "ja" (admin_lang_name of proto/admin_conf). */
#define admin_lang_code admin_lang_name
/* admin_lang_parse - "en" / "ja" (any case); false otherwise. */
bool admin_lang_parse(const char *s, enum admin_lang *out);

#endif

/* version - the product version, in the two spellings the guide uses. */
#ifndef SEKISHO_CORE_VERSION_H
#define SEKISHO_CORE_VERSION_H

#define SEKISHO_VERSION        "0.1.0"
#define SEKISHO_VERSION_NODOTS "010" /* in product_name, like the guide's "230" */

#endif

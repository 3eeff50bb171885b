/* memtune - see memtune.h. */
#include "lib/memtune.h"

#include <malloc.h>

void memtune_keep_freed_memory(void)
{
    /* Setting either threshold also turns off glibc's dynamic adjustment
     * of both, which would otherwise move them back. */
    mallopt(M_TRIM_THRESHOLD, (int)MEMTUNE_TRIM_THRESHOLD);
    mallopt(M_MMAP_THRESHOLD, (int)MEMTUNE_MMAP_THRESHOLD);
}

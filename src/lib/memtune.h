/* memtune - how the C library's allocator treats freed memory.
 *
 * The proxies allocate and free their 16-64 KiB session buffers at a high
 * rate. With glibc's defaults, memory freed at the top of the heap is
 * returned to the kernel as soon as 128 KiB are free there, and the next
 * buffer faults its pages in again: on the benchmark VM (a paravirtualised
 * guest where a page fault costs microseconds) that made a relayed 23 KiB
 * keep-alive request cost 197 us instead of 53 us at 100 clients, and
 * halved the requests/s (docs/bench.md). Keeping freed memory mapped
 * removes the faults; the price is that a process keeps the RSS of its
 * busiest moment. Owns nothing.
 */
#ifndef SEKISHO_LIB_MEMTUNE_H
#define SEKISHO_LIB_MEMTUNE_H

#define MEMTUNE_TRIM_THRESHOLD (256u << 20) /* keep up to 256 MiB of free heap mapped */
#define MEMTUNE_MMAP_THRESHOLD (4u << 20)   /* blocks below 4 MiB come from the heap */

/* memtune_keep_freed_memory - call once at start, before any thread or
 * child process exists (both inherit the setting). */
void memtune_keep_freed_memory(void);

#endif

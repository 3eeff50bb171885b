/* thread - start a helper thread of a worker process.
 *
 * A worker's threads (lib/workq's, proxy_bgcopy's copier) take no
 * signal: the worker's signalfd and the default actions stay the loop
 * thread's business, so the thread is created with every signal blocked
 * (it inherits the mask), and the caller's mask is restored after.
 */
#ifndef SEKISHO_LIB_THREAD_H
#define SEKISHO_LIB_THREAD_H

#include <pthread.h>
#include <stddef.h>

/* thread_start - pthread_create with stack_size bytes of stack and no
 * signals; 0 or an errno value. */
int thread_start(pthread_t *t, size_t stack_size, void *(*fn)(void *), void *arg);

#endif

/* worker.h - what the daemon's background threads (the jobs' keep-alive ticker, the usage sampler, the Engine
 * event watcher) share: each is started once, sleeps on its owner's lock and condition until a deadline or
 * until told to stop, and is stopped by a flag its owner holds under that lock.
 *
 * Calling sequence (lock, cond and stopping are the owner's fields, initialised by it):
 *   worker_start(&thread, fn, arg, "usage sampler", err)   0, or -STACK_EFAIL "cannot start the usage sampler
 *                                                           thread" (nothing started)
 *   in fn, the lock held: worker_add_ms(&until, ms), then worker_sleep_locked(&lock, &cond, &stopping, &until)
 *                         returns at until (CLOCK_REALTIME) or as soon as stopping is set
 *   worker_stop(&lock, &cond, &stopping)                    sets stopping and wakes every waiter; then
 *   pthread_join(thread, NULL)
 */
#ifndef STACK_WORKER_H
#define STACK_WORKER_H

#include "base/error.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

int worker_start(pthread_t *ret, void *(*fn)(void *), void *arg, const char *what, struct error *err);
/* t += ms, normalised (a deadline for pthread_cond_timedwait()). */
void worker_add_ms(struct timespec *t, long ms);
void worker_sleep_locked(pthread_mutex_t *lock, pthread_cond_t *cond, const bool *stopping,
                         const struct timespec *until);
void worker_stop(pthread_mutex_t *lock, pthread_cond_t *cond, bool *stopping);

#endif

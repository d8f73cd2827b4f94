/* worker.c - starting, sleeping and stopping a background thread (worker.h). */
#include "base/worker.h"

#include <errno.h>

int worker_start(pthread_t *ret, void *(*fn)(void *), void *arg, const char *what, struct error *err)
{
        if (pthread_create(ret, NULL, fn, arg) != 0)
                return error_set(err, STACK_EFAIL, "cannot start the %s thread", what);
        return 0;
}

void worker_add_ms(struct timespec *t, long ms)
{
        t->tv_sec += ms / 1000;
        t->tv_nsec += (ms % 1000) * 1000000L;
        if (t->tv_nsec >= 1000000000L) {
                t->tv_sec++;
                t->tv_nsec -= 1000000000L;
        }
}

void worker_sleep_locked(pthread_mutex_t *lock, pthread_cond_t *cond, const bool *stopping,
                         const struct timespec *until)
{
        while (!*stopping && pthread_cond_timedwait(cond, lock, until) != ETIMEDOUT)
                ;
}

void worker_stop(pthread_mutex_t *lock, pthread_cond_t *cond, bool *stopping)
{
        pthread_mutex_lock(lock);
        *stopping = true;
        pthread_cond_broadcast(cond);
        pthread_mutex_unlock(lock);
}

/* test-worker.c - the background-thread helpers (base/worker.h) and the wall clock (base/wallclock.h): a
 * deadline adds milliseconds with the carry into seconds, a sleeper wakes at its deadline or at once when
 * stopped, and a thread is started and joined. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "base/wallclock.h"
#include "base/worker.h"

static void add_ms_carries_into_seconds(void **state)
{
        struct timespec t = {.tv_sec = 10, .tv_nsec = 900000000L};

        (void)state;
        worker_add_ms(&t, 250);
        assert_int_equal(t.tv_sec, 11);
        assert_int_equal(t.tv_nsec, 150000000L);
        worker_add_ms(&t, 2000);
        assert_int_equal(t.tv_sec, 13);
        assert_int_equal(t.tv_nsec, 150000000L);
}

struct sleeper {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stopping, woke;
};

static void *sleep_long(void *arg)
{
        struct sleeper *sl = arg;
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        worker_add_ms(&until, 60 * 1000);
        pthread_mutex_lock(&sl->lock);
        worker_sleep_locked(&sl->lock, &sl->cond, &sl->stopping, &until);
        sl->woke = true;
        pthread_mutex_unlock(&sl->lock);
        return NULL;
}

static void stop_wakes_a_sleeper_at_once(void **state)
{
        struct sleeper sl = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
        struct error err = ERROR_INIT;
        pthread_t th;
        int64_t t0 = wallclock_ms();

        (void)state;
        assert_int_equal(worker_start(&th, sleep_long, &sl, "test", &err), 0);
        worker_stop(&sl.lock, &sl.cond, &sl.stopping);
        pthread_join(th, NULL);
        assert_true(sl.woke);
        assert_true(wallclock_ms() - t0 < 30 * 1000);
}

static void sleep_ends_at_the_deadline(void **state)
{
        struct sleeper sl = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
        struct timespec until;
        int64_t t0 = wallclock_ms();

        (void)state;
        clock_gettime(CLOCK_REALTIME, &until);
        worker_add_ms(&until, 50);
        pthread_mutex_lock(&sl.lock);
        worker_sleep_locked(&sl.lock, &sl.cond, &sl.stopping, &until);
        pthread_mutex_unlock(&sl.lock);
        assert_true(wallclock_ms() - t0 >= 45);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(add_ms_carries_into_seconds),
                cmocka_unit_test(stop_wakes_a_sleeper_at_once),
                cmocka_unit_test(sleep_ends_at_the_deadline),
        };
        return cmocka_run_group_tests_name("worker", tests, NULL, NULL);
}

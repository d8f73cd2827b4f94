/* wallclock.h - the clocks.
 *
 * wallclock_ms(): the wall clock in milliseconds since the epoch: what run history, alerts, the watcher's
 * records, the usage samples and the compose runner's timings stamp their rows with (CLOCK_REALTIME, so the
 * numbers mean a date; never for measuring an interval that must not jump).
 * monotonic_s(): seconds on CLOCK_MONOTONIC, for intervals, deadlines and timings (it never jumps; its zero
 * means nothing). sleep_ms(ms): nanosleep for ms milliseconds (a signal may end it early).
 */
#ifndef STACK_WALLCLOCK_H
#define STACK_WALLCLOCK_H

#include <stdint.h>

int64_t wallclock_ms(void);
double monotonic_s(void);
void sleep_ms(long ms);

#endif

/* wallclock.h - the wall clock in milliseconds since the epoch: what run history, alerts, the watcher's
 * records, the usage samples and the compose runner's timings stamp their rows with (CLOCK_REALTIME, so
 * the numbers mean a date; never for measuring an interval that must not jump).
 */
#ifndef STACK_WALLCLOCK_H
#define STACK_WALLCLOCK_H

#include <stdint.h>

int64_t wallclock_ms(void);

#endif

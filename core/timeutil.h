/* timeutil.h - civil dates and the timestamps of receipt files.
 *
 * Days are counted from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's
 * algorithms, exact for every int64 year that fits); times are unix seconds, UTC.
 */
#ifndef RS_TIMEUTIL_H
#define RS_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of year y, month m (1..12), day d (1..31), and back. */
int64_t rs_days_from_civil(int64_t y, unsigned m, unsigned d);
void rs_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

/* Parses a timestamp: unix seconds (13+ digit values are taken as milliseconds),
 * ISO 8601 "YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|+HH:MM]", or "M/D/YYYY[ H:MM[:SS]]".
 * Returns 0 and sets *ts, or -1. */
int rs_parse_time(const char *s, size_t n, int64_t *ts);

#endif

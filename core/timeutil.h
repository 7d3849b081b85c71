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

/* The accepted times: 1900-01-01T00:00:00Z <= t < 2200-01-01T00:00:00Z. */
#define RS_TIME_MIN (-2208988800LL)
#define RS_TIME_END 7258118400LL

/* The unit of numeric timestamps. */
enum { RS_TIME_SECONDS = 1, RS_TIME_MILLIS = 1000 };

/* Parses a timestamp into unix seconds (UTC).  Accepted, exactly:
 *   - a number: unix time in `unit` (RS_TIME_SECONDS or RS_TIME_MILLIS; no guessing from
 *     the number of digits), optionally with a fractional part (R writes 1485630413.0),
 *     which is dropped (the time is rounded down to whole seconds);
 *   - ISO 8601: YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[[:]MM]];
 *   - US: M/D/YYYY[ H:MM[:SS]] (a two-digit year is 20YY).
 * The date must exist (2025-02-30 does not), hours 0-23, minutes 0-59, seconds 0-60 (60,
 * a leap second, is the next minute's :00), offsets up to 14:00, and the time must lie
 * in [RS_TIME_MIN, RS_TIME_END).  Surrounding blanks are ignored.  Returns 0 and sets
 * *ts; or -1, and *why (when not NULL) says what is wrong (a static string). */
int rs_parse_time(const char *s, size_t n, int unit, int64_t *ts, const char **why);

/* The number s (as rs_parse_time reads one) as unix seconds in `unit`, without the range
 * check; -1 when s is not a number or overflows.  For messages that suggest the other
 * unit. */
int rs_time_number(const char *s, size_t n, int unit, int64_t *ts);

/* "YYYY-MM-DD HH:MM:SS" (UTC) of ts into buf (at least 24 bytes). */
void rs_time_format(int64_t ts, char *buf, size_t n);

#endif

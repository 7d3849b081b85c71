/* timeutil.c - civil dates and timestamps (see timeutil.h). */
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t rs_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void rs_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static void trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

/* Reads up to max digits at *i; returns the value or -1 when there is no digit. */
static long digits(const char *s, size_t n, size_t *i, int max)
{
    long v = 0;
    int k = 0;
    while (*i < n && k < max && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[(*i)++] - '0');
        k++;
    }
    return k ? v : -1;
}

static int fail(const char **why, const char *what)
{
    if (why)
        *why = what;
    return -1;
}

static int is_leap(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(long y, long m)
{
    static const int D[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : D[m - 1];
}

/* Floor division (a negative time rounds down). */
static int64_t div_floor(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* [-]digits[.digits]: *num = 1 and the value in unit when s is such a number. */
static int parse_number(const char *s, size_t n, int unit, int64_t *ts, int *num)
{
    size_t i = s[0] == '-' || s[0] == '+', int_digits = 0;
    int neg = s[0] == '-', frac = 0;
    int64_t v = 0;
    *num = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
        if (int_digits >= 18)
            return -1; /* a number, but out of any range */
        v = v * 10 + (s[i] - '0');
    }
    if (!int_digits)
        return 0;
    if (i < n && s[i] == '.') {
        size_t f = ++i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            frac |= s[i] != '0';
        if (i == f)
            return 0;
    }
    if (i != n)
        return 0;
    *num = 1;
    if (neg)
        v = -v - (frac != 0); /* -1.5 rounds down to -2 */
    *ts = div_floor(v, unit);
    return 0;
}

int rs_time_number(const char *s, size_t n, int unit, int64_t *ts)
{
    trim(&s, &n);
    int num;
    if (n == 0 || parse_number(s, n, unit, ts, &num) || !num)
        return -1;
    return 0;
}

/* The date part: ISO YYYY-MM-DD or US M/D/YYYY. */
static int parse_date(const char *s, size_t n, size_t *i, long *y, long *mo, long *d,
                      const char **why)
{
    long a = digits(s, n, i, 4);
    if (a < 0 || *i >= n)
        return fail(why, "not a date or a number");
    if (s[*i] == '-' && *i == 4) { /* ISO */
        *y = a;
        (*i)++;
        if ((*mo = digits(s, n, i, 2)) < 0 || *i >= n || s[(*i)++] != '-' ||
            (*d = digits(s, n, i, 2)) < 0)
            return fail(why, "not a date (expected YYYY-MM-DD)");
    } else if (s[*i] == '/') { /* M/D/YYYY */
        *mo = a;
        (*i)++;
        if ((*d = digits(s, n, i, 2)) < 0 || *i >= n || s[(*i)++] != '/' ||
            (*y = digits(s, n, i, 4)) < 0)
            return fail(why, "not a date (expected M/D/YYYY)");
        if (*y < 100)
            *y += 2000;
    } else
        return fail(why, "not a date or a number");
    if (*mo < 1 || *mo > 12)
        return fail(why, "no such month");
    if (*d < 1 || *d > month_days(*y, *mo))
        return fail(why, "no such day in that month");
    return 0;
}

/* The time of day after the date: [(T| )HH:MM[:SS[.fff]]]. */
static int parse_clock(const char *s, size_t n, size_t *i, long *hh, long *mi, long *ss,
                       const char **why)
{
    *hh = *mi = *ss = 0;
    if (*i >= n || (s[*i] != ' ' && s[*i] != 'T'))
        return 0;
    (*i)++;
    while (*i < n && s[*i] == ' ')
        (*i)++;
    if ((*hh = digits(s, n, i, 2)) < 0 || *i >= n || s[(*i)++] != ':' ||
        (*mi = digits(s, n, i, 2)) < 0)
        return fail(why, "not a time of day (expected HH:MM[:SS])");
    if (*i < n && s[*i] == ':') {
        (*i)++;
        if ((*ss = digits(s, n, i, 2)) < 0)
            return fail(why, "not a time of day (expected HH:MM:SS)");
        if (*i < n && s[*i] == '.') {
            (*i)++;
            while (*i < n && s[*i] >= '0' && s[*i] <= '9')
                (*i)++;
        }
    }
    if (*hh > 23 || *mi > 59 || *ss > 60)
        return fail(why, "no such time of day");
    return 0;
}

/* The zone after the time: [Z|(+|-)HH[[:]MM]], as seconds east of UTC. */
static int parse_zone(const char *s, size_t n, size_t *i, long *off, const char **why)
{
    *off = 0;
    if (*i < n && s[*i] == 'Z') {
        (*i)++;
        return 0;
    }
    if (*i >= n || (s[*i] != '+' && s[*i] != '-'))
        return 0;
    int sign = s[(*i)++] == '-' ? -1 : 1;
    long oh = digits(s, n, i, 2), om = 0;
    if (oh < 0)
        return fail(why, "not a time zone offset (expected +HH:MM)");
    if (*i < n && s[*i] == ':')
        (*i)++;
    if (*i < n && (om = digits(s, n, i, 2)) < 0)
        return fail(why, "not a time zone offset (expected +HH:MM)");
    if (oh > 14 || om > 59 || oh * 60 + om > 14 * 60)
        return fail(why, "time zone offset beyond 14:00");
    *off = sign * (oh * 3600 + om * 60);
    return 0;
}

int rs_parse_time(const char *s, size_t n, int unit, int64_t *ts, const char **why)
{
    trim(&s, &n);
    if (n == 0)
        return fail(why, "empty");
    if (unit != RS_TIME_SECONDS && unit != RS_TIME_MILLIS)
        unit = RS_TIME_SECONDS;
    int num;
    int64_t t;
    if (parse_number(s, n, unit, &t, &num))
        return fail(why, "a number out of range (before 1900 or after 2199)");
    if (!num) {
        size_t i = 0;
        long y, mo, d, hh, mi, ss, off;
        if (parse_date(s, n, &i, &y, &mo, &d, why) || parse_clock(s, n, &i, &hh, &mi, &ss, why) ||
            parse_zone(s, n, &i, &off, why))
            return -1;
        if (i != n)
            return fail(why, "unexpected text after the time");
        t = rs_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 + mi * 60 + ss -
            off;
    }
    if (t < RS_TIME_MIN || t >= RS_TIME_END)
        return fail(why, "out of range (before 1900 or after 2199)");
    *ts = t;
    return 0;
}

void rs_time_format(int64_t ts, char *buf, size_t n)
{
    int y;
    unsigned m, d;
    int64_t days = div_floor(ts, 86400), sec = ts - days * 86400;
    rs_civil_from_days(days, &y, &m, &d);
    snprintf(buf, n, "%04d-%02u-%02u %02d:%02d:%02d", y, m, d, (int)(sec / 3600),
             (int)(sec / 60 % 60), (int)(sec % 60));
}

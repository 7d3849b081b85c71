/* timeutil.c - civil dates and timestamps (see timeutil.h). */
#include "timeutil.h"

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

int rs_parse_time(const char *s, size_t n, int64_t *ts)
{
    trim(&s, &n);
    if (n == 0)
        return -1;
    size_t i = 0;
    int allnum = 1;
    for (size_t k = (s[0] == '-'); k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            allnum = 0;
    if (allnum && n < 20 && !(n == 1 && s[0] == '-')) {
        char buf[24];
        memcpy(buf, s, n);
        buf[n] = '\0';
        int64_t v = strtoll(buf, NULL, 10);
        if (v > 100000000000LL || v < -100000000000LL) /* milliseconds */
            v /= 1000;
        *ts = v;
        return 0;
    }
    long y, mo, d, hh = 0, mi = 0, ss = 0;
    long a = digits(s, n, &i, 4);
    if (a < 0 || i >= n)
        return -1;
    if (s[i] == '-' && i == 4) { /* ISO */
        y = a;
        i++;
        if ((mo = digits(s, n, &i, 2)) < 0 || i >= n || s[i++] != '-' ||
            (d = digits(s, n, &i, 2)) < 0)
            return -1;
    } else if (s[i] == '/') { /* M/D/YYYY */
        mo = a;
        i++;
        if ((d = digits(s, n, &i, 2)) < 0 || i >= n || s[i++] != '/' ||
            (y = digits(s, n, &i, 4)) < 0)
            return -1;
        if (y < 100)
            y += 2000;
    } else
        return -1;
    if (i < n && (s[i] == ' ' || s[i] == 'T')) {
        i++;
        while (i < n && s[i] == ' ')
            i++;
        if ((hh = digits(s, n, &i, 2)) < 0 || i >= n || s[i++] != ':' ||
            (mi = digits(s, n, &i, 2)) < 0)
            return -1;
        if (i < n && s[i] == ':') {
            i++;
            if ((ss = digits(s, n, &i, 2)) < 0)
                return -1;
            if (i < n && s[i] == '.') {
                i++;
                while (i < n && s[i] >= '0' && s[i] <= '9')
                    i++;
            }
        }
    }
    long off = 0;
    if (i < n && s[i] == 'Z')
        i++;
    else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i++] == '-' ? -1 : 1;
        long oh = digits(s, n, &i, 2), om = 0;
        if (oh < 0)
            return -1;
        if (i < n && s[i] == ':')
            i++;
        if (i < n && (om = digits(s, n, &i, 2)) < 0)
            return -1;
        off = sign * (oh * 3600 + om * 60);
    }
    if (i != n || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60)
        return -1;
    *ts = rs_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 + mi * 60 + ss - off;
    return 0;
}

/* rng.h - the random numbers of core: one state, two output functions, one alias table.
 *
 * State: xoshiro256 (Blackman & Vigna 2018), four 64-bit words seeded through
 * splitmix64 from (seed, a, b): x = seed ^ a·0xd1b54a32d192ed03 ^ b·0x8cb92ba72f3d8dd7.
 * Two output functions over the same state transition, each kept for the code whose
 * results were made with it (a seed gives the same model / the same world as before):
 *   xoshiro256+  (rs_rng_plus)      the SGNS trainer: fast, good high bits; floats from
 *                                   the top 24 bits, bounded integers by multiply-shift
 *                                   (Lemire; bias < n / 2^32, irrelevant there)
 *   xoshiro256** (rs_rng_starstar)  the synthetic world: doubles from the top 53 bits,
 *                                   bounded integers by rejection (unbiased)
 * Alias tables (Walker / Vose) draw from n weighted outcomes in O(1): a table entry is
 * (acceptance probability, other outcome).  Both callers build with the same algorithm;
 * they differ in one rounding order of the construction (rs_alias_order), which changes
 * about one entry in 600,000, so each keeps its own.
 */
#ifndef RS_RNG_H
#define RS_RNG_H

#include <stdint.h>

typedef struct rs_rng {
    uint64_t s[4];
} rs_rng;

static inline uint64_t rs_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A stream for (seed, a, b): different (a, b) give independent streams. */
static inline void rs_rng_seed(rs_rng *r, uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t x = seed ^ (a * 0xd1b54a32d192ed03ULL) ^ (b * 0x8cb92ba72f3d8dd7ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = rs_splitmix64(&x);
}

static inline uint64_t rs_rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* The state transition shared by both outputs. */
static inline void rs_rng_step(rs_rng *r)
{
    uint64_t *s = r->s;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rs_rotl64(s[3], 45);
}

/* xoshiro256+ */
static inline uint64_t rs_rng_plus(rs_rng *r)
{
    uint64_t res = r->s[0] + r->s[3];
    rs_rng_step(r);
    return res;
}

/* xoshiro256** */
static inline uint64_t rs_rng_starstar(rs_rng *r)
{
    uint64_t res = rs_rotl64(r->s[1] * 5, 7) * 9;
    rs_rng_step(r);
    return res;
}

/* xoshiro256+: uniform in [0, 1) with 24 bits (enough to compare with a float). */
static inline float rs_rng_plus_float(rs_rng *r)
{
    return (float)(rs_rng_plus(r) >> 40) * 0x1.0p-24f;
}

/* xoshiro256+: uniform in [0, n) by multiply-shift. */
static inline uint32_t rs_rng_plus_below(rs_rng *r, uint32_t n)
{
    return (uint32_t)(((rs_rng_plus(r) >> 32) * (uint64_t)n) >> 32);
}

/* xoshiro256**: uniform in [0, 1) with 53 bits. */
static inline double rs_rng_starstar_unif(rs_rng *r)
{
    return (double)(rs_rng_starstar(r) >> 11) * 0x1.0p-53;
}

/* xoshiro256**: uniform in [0, n), unbiased (rejection); n > 0. */
static inline uint64_t rs_rng_starstar_below(rs_rng *r, uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = rs_rng_starstar(r);
    while (x >= lim);
    return x % n;
}

/* ---- alias tables --------------------------------------------------------------- */

typedef struct rs_alias_entry {
    float prob;    /* keep column i with this probability ... */
    int32_t alias; /* ... else this outcome */
} rs_alias_entry;

/* How the construction moves the excess of a large column: x - (1 - s) (the SGNS
 * negative table) or (x + s) - 1 (the synthetic world). */
typedef enum { RS_ALIAS_SUB = 0, RS_ALIAS_ADD } rs_alias_order;

/* Builds the table of n > 0 non-negative weights (not all zero) into out[n].  Scratch:
 * n doubles and 2n ints, allocated here; returns 0, or -1 when out of memory. */
int rs_alias_build(rs_alias_entry *out, const double *w, uint32_t n, rs_alias_order order);

/* A draw with one xoshiro256+ word: the column from its high 32 bits, the coin from its
 * low 24 (the SGNS trainer). */
static inline int32_t rs_alias_draw_plus(const rs_alias_entry *t, uint32_t n, rs_rng *r)
{
    uint64_t x = rs_rng_plus(r);
    uint32_t col = (uint32_t)(((x >> 32) * (uint64_t)n) >> 32);
    float u = (float)(x & 0xffffff) * 0x1.0p-24f;
    return u < t[col].prob ? (int32_t)col : t[col].alias;
}

/* A draw with one xoshiro256** double: column and coin from u·n (the synthetic
 * world). */
static inline int32_t rs_alias_draw_starstar(const rs_alias_entry *t, uint32_t n, rs_rng *r)
{
    double u = rs_rng_starstar_unif(r) * n;
    uint32_t i = (uint32_t)u;
    if (i >= n)
        i = n - 1;
    return (u - i) < t[i].prob ? (int32_t)i : t[i].alias;
}

#endif

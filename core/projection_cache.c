/* projection_cache.c - the cache file of the projections beside a model, and the
 * fingerprint that tells whether it was made for that model (see projection.h for the
 * byte layout). */
#include "projection.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "hash.h"
#include "readfile.h"

#define PROJ_MAGIC "RSCOPEP1"
/* the file's version: raised whenever the file or an algorithm changes, so a cache made
 * by another version is stale (computed again), not trusted */
#define PROJ_VERSION 2u

/* ---------------------------------------------------------------- cache ---- */

uint64_t rs_proj_fingerprint(const rs_embedding *m)
{
    /* word-wise FNV-style mixing: a byte-wise FNV of 100k x 64 floats would cost
     * ~100 ms, this ~5 */
    uint64_t h = 0xcbf29ce484222325ULL;
    const uint64_t P = 0x100000001b3ULL;
    h = (h ^ (uint64_t)(uint32_t)m->rows) * P;
    h = (h ^ (uint64_t)(uint32_t)m->dim) * P;
    for (int32_t r = 0; r < m->rows; r++)
        h = (h ^ (uint64_t)(uint32_t)m->row_item[r]) * P;
    size_t n = (size_t)m->rows * (size_t)m->dim;
    const float *v = m->in;
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        uint64_t w;
        memcpy(&w, v + i, sizeof w);
        h = (h ^ w) * P;
        h ^= h >> 29;
    }
    if (i < n) {
        uint32_t w;
        memcpy(&w, v + i, sizeof w);
        h = (h ^ w) * P;
    }
    return h;
}

int rs_proj_cache_path(const char *model_path, char *buf, size_t n)
{
    int k = snprintf(buf, n, "%s.map", model_path);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static float get_f32(const unsigned char *p)
{
    uint32_t u = get_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void put_f32(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_u32(p, u);
}

#define HEADER_LEN (8 + 4 * 4 + 8 + 2 * 4)

/* The whole file into private memory (core/readfile.h: regular files only, opened
 * without blocking, a file changing while read refused).  *buf NULL with RS_OK when
 * the file does not exist; any other failure is a broken cache (RS_EDATA). */
static int read_whole(const char *path, unsigned char **buf, size_t *len, size_t *cap,
                      rs_error *e)
{
    *buf = NULL;
    *len = *cap = 0;
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return RS_OK;
    int fd = -1;
    int rc = rs_open_regular(path, "map cache", &fd, &st, e);
    if (rc != RS_OK)
        return rc == RS_EINTERNAL ? rc : RS_EDATA;
    void *b = NULL;
    rc = rs_read_private(fd, path, &st, &b, cap, e);
    close(fd);
    if (rc != RS_OK)
        return rc;
    *buf = b;
    *len = (size_t)st.st_size;
    return RS_OK;
}

int rs_proj_cache_read(const char *path, int32_t rows, int32_t dim, uint64_t fingerprint,
                       rs_proj *out[RS_PROJ_NMETHODS], float var[2], int *stale, rs_error *e)
{
    unsigned char *b = NULL;
    size_t len = 0, cap = 0;
    for (int i = 0; i < RS_PROJ_NMETHODS; i++)
        out[i] = NULL;
    if (stale)
        *stale = 0;
    int rc = read_whole(path, &b, &len, &cap, e);
    if (rc != RS_OK || !b)
        return rc;
    rs_proj *got[RS_PROJ_NMETHODS] = {NULL};
#define BROKEN(...)                                                                        \
    do {                                                                                   \
        rc = rs_seterr(e, RS_EDATA, __VA_ARGS__);                                          \
        goto done;                                                                         \
    } while (0)
    if (len < HEADER_LEN + 8 || memcmp(b, PROJ_MAGIC, 8) != 0)
        BROKEN("%s: not a map cache (wrong magic or too short: %zu bytes)", path, len);
    if (get_u64(b + len - 8) != rs_fnv1a64(RS_FNV64_INIT, b, len - 8))
        BROKEN("%s: the map cache is damaged (checksum mismatch)", path);
    uint32_t version = get_u32(b + 8), frows = get_u32(b + 12), fdim = get_u32(b + 16),
             methods = get_u32(b + 20);
    if (version != PROJ_VERSION) {
        if (stale)
            *stale = 1; /* made by another version of the projections: recompute */
        goto done;
    }
    if (methods & ~((1u << RS_PROJ_NMETHODS) - 1))
        BROKEN("%s: the map cache names unknown projections (%#x)", path, methods);
    int nm = 0;
    for (int i = 0; i < RS_PROJ_NMETHODS; i++)
        nm += (methods >> i) & 1;
    if (len != HEADER_LEN + (size_t)nm * frows * 8 + 8)
        BROKEN("%s: the map cache is %zu bytes, its header says %zu", path, len,
               HEADER_LEN + (size_t)nm * frows * 8 + 8);
    if ((int32_t)frows != rows || (int32_t)fdim != dim || get_u64(b + 24) != fingerprint) {
        if (stale)
            *stale = 1; /* made for another model: recompute */
        goto done;
    }
    const unsigned char *p = b + HEADER_LEN;
    for (int i = 0; i < RS_PROJ_NMETHODS; i++) {
        if (!((methods >> i) & 1))
            continue;
        if (!(got[i] = rs_proj_new(rows))) {
            rc = rs_seterr(e, RS_EINTERNAL, "%s: out of memory", path);
            goto done;
        }
        for (size_t j = 0; j < 2 * (size_t)rows; j++, p += 4) {
            float v = get_f32(p);
            if (!isfinite(v))
                BROKEN("%s: the %s map holds a value that is not finite (point %zu)", path,
                       rs_proj_method_name((rs_proj_method)i), j / 2);
            got[i]->xy[j] = v;
        }
    }
    if (var) {
        var[0] = get_f32(b + 32);
        var[1] = get_f32(b + 36);
    }
    for (int i = 0; i < RS_PROJ_NMETHODS; i++) {
        out[i] = got[i];
        got[i] = NULL;
    }
#undef BROKEN
done:
    for (int i = 0; i < RS_PROJ_NMETHODS; i++)
        rs_proj_free(got[i]);
    rs_read_private_free(b, cap);
    return rc;
}

int rs_proj_cache_write(const char *path, int32_t rows, int32_t dim, uint64_t fingerprint,
                        rs_proj *const proj[RS_PROJ_NMETHODS], const float var[2],
                        rs_error *e)
{
    uint32_t methods = 0;
    int nm = 0;
    for (int i = 0; i < RS_PROJ_NMETHODS; i++)
        if (proj[i]) {
            if (proj[i]->rows != rows)
                return rs_seterr(e, RS_EINTERNAL, "%s: a projection of %d points for %d rows",
                                 path, proj[i]->rows, rows);
            methods |= 1u << i;
            nm++;
        }
    size_t len = HEADER_LEN + (size_t)nm * (size_t)rows * 8 + 8;
    unsigned char *b = calloc(len, 1);
    if (!b)
        return rs_seterr(e, RS_EINTERNAL, "%s: out of memory", path);
    memcpy(b, PROJ_MAGIC, 8);
    put_u32(b + 8, PROJ_VERSION);
    put_u32(b + 12, (uint32_t)rows);
    put_u32(b + 16, (uint32_t)dim);
    put_u32(b + 20, methods);
    put_u64(b + 24, fingerprint);
    put_f32(b + 32, var ? var[0] : 0);
    put_f32(b + 36, var ? var[1] : 0);
    unsigned char *p = b + HEADER_LEN;
    for (int i = 0; i < RS_PROJ_NMETHODS; i++)
        if (proj[i])
            for (size_t j = 0; j < 2 * (size_t)rows; j++, p += 4)
                put_f32(p, proj[i]->xy[j]);
    put_u64(b + len - 8, rs_fnv1a64(RS_FNV64_INIT, b, len - 8));
    rs_afile *f = NULL;
    int rc = rs_afile_open(path, &f, e);
    if (rc == RS_OK) {
        if (fwrite(b, 1, len, rs_afile_stream(f)) != len) {
            rs_afile_abort(f);
            rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot write the map cache", path);
        } else {
            rc = rs_afile_commit(f, e);
        }
    }
    free(b);
    return rc;
}

/* fuzz_model.c - the own model-file loader (rs_model_load), and the export path of a
 * loaded model (rs_w2v_write_stream, read back with rs_w2v_read), on arbitrary bytes.
 *
 * How the input becomes a model file: data starting with the magic "RSCOPEM1" is the
 * file as it is (the seed corpus: real model files).  Otherwise byte 0 selects
 *   0  the rest of the data, raw;
 *   1  a valid tiny model with output vectors, patched: the rest is a list of
 *      (offset u16 little-endian, byte) triples applied to it;
 *   2  the same without output vectors (an imported word2vec model);
 *   3  a valid tiny model whose values come from the rest of the data as float32 (NaN
 *      and infinities included), with output vectors when byte 1 is odd.
 * After a successful load: every section is read end to end (ASan catches a section
 * that runs past the file's bytes), the index invariants hold, every value is finite
 * (a non-finite model must be refused, issue 11 item 7), in.out scoring says -1 exactly
 * for output-less models (item 1), and each matrix exported in both word2vec formats
 * reads back bit-identical (the export path; words with whitespace are refused, a
 * repeated external id is refused on the way back).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "model.h"
#include "w2v_format.h"

enum { TOY_ROWS = 3, TOY_DIM = 4, TOY_ITEMS = 6 };

/* A valid tiny model file's bytes (malloc-ed), with or without output vectors, values
 * from vals (TOY_ROWS * TOY_DIM * 2 floats) or a fixed pattern. */
static unsigned char *toy_file(int with_out, const float *vals, size_t *len)
{
    float in[TOY_ROWS * TOY_DIM], out[TOY_ROWS * TOY_DIM];
    int32_t row_item[TOY_ROWS] = {4, 0, 2}, item_row[TOY_ITEMS] = {1, -1, 2, -1, 0, -1};
    int64_t counts[TOY_ROWS] = {9, 5, 2};
    for (int i = 0; i < TOY_ROWS * TOY_DIM; i++) {
        in[i] = vals ? vals[i] : (float)i * 0.25f - 1.0f;
        out[i] = vals ? vals[TOY_ROWS * TOY_DIM + i] : (float)(i % 5) / 3.0f;
    }
    rs_embedding m = {.n_items = TOY_ITEMS, .rows = TOY_ROWS, .dim = TOY_DIM,
                      .row_item = row_item, .item_row = item_row, .in = in,
                      .out = with_out ? out : NULL, .counts = counts};
    static const char *const ids[TOY_ROWS] = {"p4", "p0", "p\xc3\xa9"};
    const char *path = fuzz_path(2, "toy.rsm");
    rs_error e;
    unsigned char *buf = NULL;
    *len = 0;
    if (rs_model_save(path, &m, "product", ids, NULL, &e) != RS_OK)
        return NULL; /* non-finite values: refused at saving already */
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        abort();
    fclose(f);
    unlink(path);
    char json[1400];
    snprintf(json, sizeof json, "%s.json", path);
    unlink(json);
    *len = (size_t)n;
    return buf;
}

/* The bytes to load, per the mode described at the top (NULL: nothing to load). */
static unsigned char *model_bytes(const uint8_t *data, size_t size, size_t *len, int *nonfinite)
{
    *nonfinite = 0;
    if (size >= 8 && memcmp(data, "RSCOPEM1", 8) == 0) {
        unsigned char *b = malloc(size + 1);
        if (!b)
            abort();
        memcpy(b, data, size);
        *len = size;
        return b;
    }
    if (size < 1)
        return NULL;
    int mode = data[0] & 3;
    data++;
    size--;
    if (mode == 0) {
        unsigned char *b = malloc(size + 1);
        if (!b)
            abort();
        memcpy(b, data, size);
        *len = size;
        return b;
    }
    if (mode == 3) {
        float vals[TOY_ROWS * TOY_DIM * 2];
        int with_out = size > 0 && (data[0] & 1);
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            unsigned char q[4] = {0, 0, 0, 0};
            for (int k = 0; k < 4; k++)
                q[k] = size > 1 ? data[1 + (i * 4 + (size_t)k) % (size - 1)] : 0;
            memcpy(&vals[i], q, 4);
            if (!isfinite(vals[i]) && (i < TOY_ROWS * TOY_DIM || with_out))
                *nonfinite = 1;
        }
        unsigned char *b = toy_file(with_out, vals, len);
        if (!b && !*nonfinite)
            abort(); /* a finite model must save */
        if (b && *nonfinite)
            abort(); /* a non-finite one must not */
        return b;
    }
    unsigned char *b = toy_file(mode == 1, NULL, len);
    if (!b)
        abort();
    for (size_t i = 0; i + 3 <= size; i += 3) {
        size_t at = (size_t)data[i] | (size_t)data[i + 1] << 8;
        if (at < *len)
            b[at] = data[i + 2];
    }
    return b;
}

/* Each matrix in both formats to a file and back: the same words, bit-identical. */
static void check_export(const rs_embedding *m)
{
    int dup = 0;
    for (int32_t a = 0; a < m->rows && !dup && m->rows <= 4096; a++)
        for (int32_t b = a + 1; b < m->rows && !dup; b++)
            dup = strcmp(m->ext_ids[a], m->ext_ids[b]) == 0;
    const char *path = fuzz_path(1, "x.w2v");
    for (int mat = 0; mat < 2; mat++) {
        const float *v = mat ? m->out : m->in;
        if (!v)
            continue;
        for (int f = 0; f < 2; f++) {
            rs_w2v_format fmt = f ? RS_W2V_BINARY : RS_W2V_TEXT;
            FILE *out = fopen(path, "wb");
            if (!out)
                abort();
            rs_error e;
            int rc = rs_w2v_write_stream(out, path, fmt, m->rows, m->dim, m->ext_ids, v, &e);
            if (fclose(out) != 0)
                abort();
            if (rc == RS_EUSAGE)
                continue; /* a word with whitespace: the formats cannot hold it */
            if (rc != RS_OK)
                abort();
            rs_w2v *w = NULL;
            rc = rs_w2v_read(path, fmt, &w, &e);
            if (rc != RS_OK) {
                if (!(dup && rc == RS_EDATA && strstr(e.msg, "duplicate word")) &&
                    !(rc == RS_EDATA && m->rows > 4096))
                    abort();
                continue;
            }
            if (w->count != m->rows || w->dim != m->dim)
                abort();
            for (int32_t r = 0; r < m->rows; r++)
                if (strcmp(w->words[r], m->ext_ids[r]) != 0)
                    abort();
            if (memcmp(w->vectors, v, (size_t)m->rows * (size_t)m->dim * sizeof(float)) != 0)
                abort();
            rs_w2v_free(w);
        }
    }
    unlink(path);
}

static void check_model(const rs_embedding *m)
{
    if (!m || m->rows < 0 || m->dim <= 0 || m->n_items < 0)
        abort();
    volatile float acc = 0;
    size_t cells = (size_t)m->rows * (size_t)m->dim;
    for (size_t i = 0; i < cells; i++) {
        if (!isfinite(m->in[i]) || (m->out && !isfinite(m->out[i])))
            abort(); /* the loader must refuse non-finite values */
        acc += m->in[i];
        if (m->out)
            acc += m->out[i];
    }
    for (int32_t r = 0; r < m->rows; r++) {
        int32_t it = m->row_item[r];
        if (it < 0 || it >= m->n_items)
            abort();
        if (m->item_row[it] != r)
            abort();
        if (m->counts)
            acc += (float)m->counts[r];
        if (!m->ext_ids || !m->ext_ids[r] || !m->ext_ids[r][0])
            abort();
    }
    for (int32_t i = 0; i < m->n_items; i++)
        if (m->item_row[i] < -1 || m->item_row[i] >= m->rows)
            abort();
    (void)acc;
    if (!memchr(m->kind, 0, sizeof m->kind))
        abort();
    float *scores = malloc(((size_t)m->n_items + 1) * sizeof *scores);
    if (!scores)
        abort();
    int32_t ctx[1] = {m->row_item[0]};
    int used = rs_embedding_score_inout(m, ctx, 1, scores);
    if (used != (m->out ? 1 : -1))
        abort(); /* output-less: "unavailable", never a NULL matrix touched */
    free(scores);
    check_export(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0;
    int nonfinite = 0;
    unsigned char *bytes = model_bytes(data, size, &len, &nonfinite);
    if (!bytes)
        return 0;
    const char *path = fuzz_path(0, "m.rsm");
    fuzz_write(path, bytes, len);
    free(bytes);
    rs_error e;
    rs_embedding *m = NULL;
    int rc = rs_model_load(path, &m, &e);
    if (rc == RS_OK) {
        check_model(m);
        rs_embedding_free(m);
    } else if (rc != RS_EDATA && rc != RS_EUSAGE) {
        abort();
    } else if (m) {
        abort();
    }
    unlink(path);
    return 0;
}

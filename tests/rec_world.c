/* rec_world.c - the tiny hand-made world of the recommender tests (rec_world.h). */
#include "rec_world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "publish.h"
#include "sgns.h"

static uint64_t rng = 12345;
static double urand(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng >> 11) / 9007199254740992.0;
}

float pin[2][NP * PDIM], pout[2][NP * PDIM];
float cin[NC * CDIM], cout_[NC * CDIM];
int receipts[NREC][4], rsize[NREC], rcity[NREC];

const char *CAT_NAMES[NC] = {"Milk", "Cereal", "Bread", "Butter"};
const char *PROD_NAMES[NP] = {
    "Whole milk 1l", "Skim milk 1l", "Oat milk",      "Corn flakes", "Muesli crunchy",
    "Granola honey", "White bread",  "Rye bread",     "Baguette",    "Salted butter",
    "Unsalted butter", "Margarine 50% fat"};

int save_model(rs_store *s, const char *dir, const char *name, const char *kind, int64_t city,
               int n, int dim, const float *in, const float *out, const char *const *ext,
               int64_t *id)
{
    rs_embedding m;
    memset(&m, 0, sizeof m);
    int32_t row_item[NP], item_row[NP];
    int64_t counts[NP];
    for (int i = 0; i < n; i++) {
        row_item[i] = i;
        item_row[i] = i;
        counts[i] = 10;
    }
    m.n_items = n;
    m.rows = n;
    m.dim = dim;
    m.row_item = row_item;
    m.item_row = item_row;
    m.in = (float *)in;
    m.out = (float *)out;
    m.counts = counts;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    rs_error e = {0};
    rs_publish p = {.city_id = city, .kind = kind, .params_json = "{}", .metrics_json = "{}",
                    .fingerprint = "test", .activate = 1, .ext_ids = ext, .path = path};
    int rc = rs_model_publish(s, &m, &p, id, NULL, 0, &e);
    if (rc)
        fprintf(stderr, "saving %s: %s\n", name, e.msg);
    return rc;
}

rs_store *build_world(const char *dir, char *dbpath, size_t n)
{
    snprintf(dbpath, n, "%s/world.db", dir);
    rs_error e = {0};
    rs_store *s = NULL;
    if (rs_store_open(dbpath, RS_STORE_CREATE, &s, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return NULL;
    }
    char sql[512];
    int rc = rs_store_exec(s, "INSERT INTO cities(id, name) VALUES (1, 'Springfield'), (2, 'Shelbyville');", &e);
    for (int c = 0; c < NC && !rc; c++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO categories(id, ext_id, name, level) VALUES (%d, 'cat%d', '%s', 1);",
                 c + 1, c + 1, CAT_NAMES[c]);
        rc = rs_store_exec(s, sql, &e);
    }
    for (int p = 0; p < NP && !rc; p++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO products(id, ext_id, name, category_id) VALUES (%d, 'P%d', '%s', %d);",
                 p + 1, p + 1, PROD_NAMES[p], p / 3 + 1);
        rc = rs_store_exec(s, sql, &e);
    }
    /* receipts: product 0 in most receipts (the popular one), others at random */
    for (int r = 0; r < NREC && !rc; r++) {
        rcity[r] = 1 + (r % 3 == 2);
        snprintf(sql, sizeof sql, "INSERT INTO receipts(id, ext_id, city_id) VALUES (%d, 'R%d', %d);",
                 r + 1, r + 1, rcity[r]);
        rc = rs_store_exec(s, sql, &e);
        int k = 0;
        if (r % 4 != 3)
            receipts[r][k++] = 0;
        while (k < 3) {
            int p = 1 + (int)(urand() * (NP - 2)); /* product 11 is never sold */
            int dup = 0;
            for (int j = 0; j < k; j++)
                dup |= receipts[r][j] == p;
            if (!dup)
                receipts[r][k++] = p;
        }
        rsize[r] = k;
        for (int j = 0; j < k && !rc; j++) {
            snprintf(sql, sizeof sql,
                     "INSERT INTO receipt_items(receipt_id, product_id) VALUES (%d, %d);", r + 1,
                     receipts[r][j] + 1);
            rc = rs_store_exec(s, sql, &e);
        }
    }
    if (!rc)
        rc = rs_store_refresh_popularity(s, &e);
    /* models: random vectors, products 1 and 2 with the same input vector (a tie) */
    for (int v = 0; v < 2; v++)
        for (int i = 0; i < NP * PDIM; i++) {
            pin[v][i] = (float)(urand() * 2 - 1);
            pout[v][i] = (float)(urand() * 2 - 1);
        }
    for (int v = 0; v < 2; v++)
        for (int j = 0; j < PDIM; j++)
            pin[v][2 * PDIM + j] = pin[v][1 * PDIM + j];
    for (int i = 0; i < NC * CDIM; i++) {
        cin[i] = (float)(urand() * 2 - 1);
        cout_[i] = (float)(urand() * 2 - 1);
    }
    const char *pext[NP], *cext[NC];
    static char pbuf[NP][8], cbuf[NC][8];
    for (int p = 0; p < NP; p++) {
        snprintf(pbuf[p], sizeof pbuf[p], "P%d", p + 1);
        pext[p] = pbuf[p];
    }
    for (int c = 0; c < NC; c++) {
        snprintf(cbuf[c], sizeof cbuf[c], "cat%d", c + 1);
        cext[c] = cbuf[c];
    }
    int64_t id;
    if (!rc && rs_store_ensure_models_dir(s, &e) == RS_OK) {
        const char *md = rs_store_models_dir(s);
        rc = save_model(s, md, "product-all.rsm", RS_KIND_PRODUCT, 0, NP, PDIM, pin[0], pout[0], pext, &id) ||
             save_model(s, md, "product-c1.rsm", RS_KIND_PRODUCT, 1, NP, PDIM, pin[1], pout[1], pext, &id) ||
             save_model(s, md, "category-all.rsm", RS_KIND_CATEGORY, 0, NC, CDIM, cin, cout_, cext, &id);
    }
    if (rc) {
        fprintf(stderr, "building the world: %s\n", e.msg);
        rs_store_close(s);
        return NULL;
    }
    return s;
}


/* world.c - builds the fixed test world of the screen tests (see world.h). */
#include "world.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "publish.h"
#include "store.h"

#define NDEPT 4
#define NCAT 8
#define PER_CAT 5
#define NPROD (NCAT * PER_CAT)
#define DIM 8

static const char *const DEPTS[NDEPT] = {"Dairy", "Bakery", "Snacks", "Drinks"};
static const char *const CATS[NCAT] = {"Milk", "Cheese", "Bread", "Pastry",
                                       "Chips", "Dips", "Tea", "Juice"};
static const int CAT_DEPT[NCAT] = {0, 0, 1, 1, 2, 2, 3, 3};
/* the planted complement of each category */
static const int COMP[NCAT] = {3, 2, 1, 0, 5, 4, 3, 4};
static const char *const NAMES[NPROD] = {
    "Whole Milk 1L", "Skimmed Milk 1L", "Oat Drink 1L", "Lactose-free Milk", "Goat Milk",
    "Gouda Slices", "Cheddar Block", "Brie", "Mozzarella", "Feta",
    "Sourdough Loaf", "Rye Bread", "Baguette", "Toast Bread", "Multigrain Rolls",
    "Butter Croissant", "Cinnamon Roll", "Danish Pastry", "Muffin", "Pain au Chocolat",
    "Salted Chips 200g", "Evil \x1b[31mRed\x1b[0m Chips", "Paprika Chips",
    "Chips \302\233C1 control", "Sour Cream Chips",
    "Salsa Dip", "Guacamole", "Sour Cream Dip", "Hummus", "Cheese Dip",
    "\xe6\x97\xa5\xe6\x9c\xac\xe3\x81\xae\xe7\xb7\x91\xe8\x8c\xb6 Green Tea",
    "Black Tea\tEarl Grey", "Mint Tea", "Chamomile Tea", "Rooibos Tea",
    "Orange Juice 1L", "Apple Juice", "Bad \xff\xfe Juice",
    "Multivitamin Juice with an exceptionally long descriptive name that must be truncated",
    "Tomato Juice",
};
static const char *const CITIES[3] = {"Springfield", "Shelbyville", "Ogdenville"};
static const int RECEIPTS[3] = {300, 200, 100};

static uint64_t lcg_state;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(lcg_state >> 33);
}

/* A product of category c, Zipf-like: the first ones are the popular ones. */
static int pick_in(int c)
{
    static const int W[PER_CAT] = {40, 25, 15, 12, 8};
    int r = (int)(lcg() % 100), acc = 0;
    for (int i = 0; i < PER_CAT; i++) {
        acc += W[i];
        if (r < acc)
            return c * PER_CAT + i;
    }
    return c * PER_CAT;
}

static double pert(int i, int d, int salt)
{
    return (double)(((i * 7 + d * 13 + salt * 5) % 11) - 5) / 40.0;
}

static int exec(rs_store *s, const char *sql)
{
    rs_error e = {0};
    if (rs_store_exec(s, sql, &e) != RS_OK) {
        fprintf(stderr, "world: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int insert_text(rs_store *s, const char *sql, int n, const char *const *vals,
                       const int64_t *ints, int n_ints)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rs_store_db(s), sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "world: %s: %s\n", sql, sqlite3_errmsg(rs_store_db(s)));
        return -1;
    }
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_STATIC);
    for (int i = 0; i < n_ints; i++)
        sqlite3_bind_int64(st, n + i + 1, ints[i]);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    if (rc)
        fprintf(stderr, "world: %s: %s\n", sql, sqlite3_errmsg(rs_store_db(s)));
    sqlite3_finalize(st);
    return rc;
}

/* Product model: in-vectors cluster by category (substitutes), out-vectors point at
 * the categories whose complement they are (in[q].out[p] high for complements). */
static int save_model(rs_store *s, int64_t city, const char *kind, int salt, const char *dir,
                      const char *metrics)
{
    /* the category index space holds departments first (ids 1..4): like a trained
     * category model, only the level-1 categories get rows */
    int is_prod = strcmp(kind, "product") == 0;
    int items = is_prod ? NPROD : NDEPT + NCAT;
    int rows = is_prod ? NPROD : NCAT;
    rs_embedding m = {0};
    int rc = -1;
    char path[4096];
    const char *ext[NDEPT + NCAT + NPROD];
    char extbuf[NDEPT + NCAT + NPROD][16];
    rs_error e = {0};
    m.n_items = items;
    m.rows = rows;
    m.dim = DIM;
    m.row_item = calloc((size_t)rows, sizeof *m.row_item);
    m.item_row = calloc((size_t)items, sizeof *m.item_row);
    m.in = calloc((size_t)rows * DIM, sizeof *m.in);
    m.out = calloc((size_t)rows * DIM, sizeof *m.out);
    m.counts = calloc((size_t)rows, sizeof *m.counts);
    if (!m.row_item || !m.item_row || !m.in || !m.out || !m.counts)
        goto done;
    for (int i = 0; i < items; i++)
        m.item_row[i] = -1;
    for (int r = 0; r < rows; r++) {
        int item = is_prod ? r : NDEPT + r;
        int cat = is_prod ? r / PER_CAT : r;
        m.row_item[r] = item;
        m.item_row[item] = r;
        m.counts[r] = 10;
        if (is_prod)
            snprintf(extbuf[r], sizeof extbuf[r], "P%02d", r + 1);
        else
            snprintf(extbuf[r], sizeof extbuf[r], "C%d", r + 1);
        ext[r] = extbuf[r];
        float *in = m.in + (size_t)r * DIM, *out = m.out + (size_t)r * DIM;
        for (int d = 0; d < DIM; d++) {
            in[d] = (float)(pert(r, d, salt) * (is_prod ? 1.0 : 0.2));
            out[d] = (float)(pert(r + 3, d, salt) * 0.3);
        }
        in[cat] += 1.0f;
        for (int c = 0; c < NCAT; c++)
            if (COMP[c] == cat)
                out[c] += is_prod ? 2.0f - 0.25f * (float)(r % PER_CAT) : 3.0f;
    }
    snprintf(path, sizeof path, "%s/%s-city%lld.rsm", dir, kind, (long long)city);
    rs_publish pub = {.city_id = city, .kind = kind, .params_json = "{\"dim\":8,\"epochs\":20}",
                      .metrics_json = metrics, .fingerprint = "test-world",
                      .seconds = 1.5 + salt, .activate = 1, .ext_ids = ext, .path = path};
    if (rs_model_publish(s, &m, &pub, NULL, NULL, 0, &e) != RS_OK) {
        fprintf(stderr, "world: %s\n", e.msg);
        goto done;
    }
    rc = 0;
done:
    free(m.row_item);
    free(m.item_row);
    free(m.in);
    free(m.out);
    free(m.counts);
    return rc;
}

int screen_world_build(const char *dir, int with_models, char *db_path, size_t n)
{
    rs_store *s = NULL;
    rs_error e = {0};
    int rc = -1;
    char models_dir[4096];
    snprintf(db_path, n, "%s/world.db", dir);
    remove(db_path);
    if (rs_store_open(db_path, RS_STORE_CREATE, &s, &e) != RS_OK) {
        fprintf(stderr, "world: %s\n", e.msg);
        return -1;
    }
    if (exec(s, "BEGIN"))
        goto done;
    for (int c = 0; c < 3; c++)
        if (insert_text(s, "INSERT INTO cities(name) VALUES (?1)", 1, &CITIES[c], NULL, 0))
            goto done;
    for (int d = 0; d < NDEPT; d++) {
        char ext[16];
        snprintf(ext, sizeof ext, "D%d", d + 1);
        const char *v[2] = {ext, DEPTS[d]};
        if (insert_text(s, "INSERT INTO categories(ext_id, name, level) VALUES (?1, ?2, 0)", 2, v,
                        NULL, 0))
            goto done;
    }
    for (int c = 0; c < NCAT; c++) {
        char ext[16];
        snprintf(ext, sizeof ext, "C%d", c + 1);
        const char *v[2] = {ext, CATS[c]};
        int64_t parent = CAT_DEPT[c] + 1;
        if (insert_text(s, "INSERT INTO categories(ext_id, name, level, parent_id)"
                           " VALUES (?1, ?2, 1, ?3)", 2, v, &parent, 1))
            goto done;
    }
    for (int p = 0; p < NPROD; p++) {
        char ext[16];
        snprintf(ext, sizeof ext, "P%02d", p + 1);
        const char *v[2] = {ext, NAMES[p]};
        int64_t cat = NDEPT + p / PER_CAT + 1;
        if (insert_text(s, "INSERT INTO products(ext_id, name, category_id, price)"
                           " VALUES (?1, ?2, ?3, 1.0)", 2, v, &cat, 1))
            goto done;
    }
    lcg_state = 42;
    int64_t rid = 0;
    for (int c = 0; c < 3; c++) {
        for (int r = 0; r < RECEIPTS[c]; r++) {
            char ext[32];
            snprintf(ext, sizeof ext, "R%d-%04d", c + 1, r);
            const char *v[1] = {ext};
            int64_t city = c + 1;
            if (insert_text(s, "INSERT INTO receipts(ext_id, city_id) VALUES (?1, ?2)", 1, v,
                            &city, 1))
                goto done;
            rid++;
            /* city tastes: Springfield favours dairy, Shelbyville snacks */
            int cat = (int)(lcg() % NCAT);
            if (c == 0 && lcg() % 3 == 0)
                cat = (int)(lcg() % 2);
            if (c == 1 && lcg() % 3 == 0)
                cat = 4 + (int)(lcg() % 2);
            int items[4], ni = 0;
            items[ni++] = pick_in(cat);
            if (lcg() % 10 < 7)
                items[ni++] = pick_in(COMP[cat]);
            if (lcg() % 10 < 3)
                items[ni++] = pick_in((int)(lcg() % NCAT));
            for (int i = 0; i < ni; i++) {
                int dup = 0;
                for (int j = 0; j < i; j++)
                    dup |= items[j] == items[i];
                if (dup)
                    continue;
                int64_t ints[2] = {rid, items[i] + 1};
                if (insert_text(s, "INSERT INTO receipt_items(receipt_id, product_id)"
                                   " VALUES (?1, ?2)", 0, NULL, ints, 2))
                    goto done;
            }
        }
    }
    if (exec(s, "COMMIT"))
        goto done;
    if (rs_store_refresh_popularity(s, &e) != RS_OK) {
        fprintf(stderr, "world: %s\n", e.msg);
        goto done;
    }
    if (with_models) {
        if (rs_store_ensure_models_dir(s, &e) != RS_OK) {
            fprintf(stderr, "world: %s\n", e.msg);
            goto done;
        }
        snprintf(models_dir, sizeof models_dir, "%s", rs_store_models_dir(s));
        /* the figures of train (validation part, flat as train writes them) */
        const char *m0 = "{\"k\":10,\"hr@10\":0.1234,\"ndcg@10\":0.0712,\"coverage@10\":0.45,"
                         "\"novelty\":4.21}";
        const char *m1 = "{\"k\":10,\"hr@10\":0.3002,\"ndcg@10\":0.1803,\"coverage@10\":0.90,"
                         "\"novelty\":3.05}";
        const char *m3 = "{\"k\":10,\"hr@10\":0.1402,\"ndcg@10\":0.0803,\"coverage@10\":0.52,"
                         "\"novelty\":4.05}";
        const char *m4 = "{\"k\":10,\"hr@10\":0.3815,\"ndcg@10\":0.2290,\"coverage@10\":0.88,"
                         "\"novelty\":2.95}";
        if (save_model(s, 0, "product", 0, models_dir, m0) ||
            save_model(s, 0, "category", 0, models_dir, m1) ||
            save_model(s, 1, "product", 1, models_dir, m3) ||
            save_model(s, 1, "category", 1, models_dir, m4))
            goto done;
        /* fixed times (the registry stamps the clock): Springfield's evaluations come
         * after its models, all cities' before theirs (stale) */
        if (exec(s, "UPDATE models SET created_at = '2026-01-01T00:00:00Z'"))
            goto done;
        if (rs_evaluations_models_column(s, &e) != RS_OK) {
            fprintf(stderr, "world: %s\n", e.msg);
            goto done;
        }
        if (exec(s,
                 "INSERT INTO evaluations(city_id, method, split, metrics, created_at) VALUES"
                 " (1, 'popularity', 'hash-test', '{\"hr@10\":0.0831,\"ndcg@10\":0.0402,"
                 "\"coverage@10\":0.02,\"novelty\":2.1}', '2026-01-02T00:00:00Z'),"
                 " (1, 'itemitem', 'hash-test', '{\"hr@10\":0.0660,\"ndcg@10\":0.0333,"
                 "\"coverage@10\":0.61,\"novelty\":4.4}', '2026-01-02T00:00:00Z'),"
                 " (1, 'als', 'hash-test', '{\"hr@10\":0.0712,\"ndcg@10\":0.0350}',"
                 " '2026-01-02T00:00:00Z'),"
                 " (1, 'ease', 'hash-test', '{\"hr@10\":0.1110,\"ndcg@10\":0.0590,"
                 "\"coverage@10\":0.33,\"novelty\":3.9}', '2026-01-02T00:00:00Z'),"
                 " (1, 'sgns in.out', 'hash-test', '{\"hr@10\":0.1388,\"ndcg@10\":0.0790,"
                 "\"coverage@10\":0.52,\"novelty\":4.05}', '2026-01-02T00:00:00Z'),"
                 " (1, 'completion blend', 'hash-test', '{\"hr@10\":0.1490,"
                 "\"ndcg@10\":0.0841,\"coverage@10\":0.47,\"novelty\":3.8}',"
                 " '2026-01-02T00:00:00Z'),"
                 " (1, 'category popularity', 'hash-test', '{\"hr@10\":0.4505,"
                 "\"ndcg@10\":0.2710,\"coverage@10\":0.30,\"novelty\":1.9}',"
                 " '2026-01-02T00:00:00Z'),"
                 " (1, 'category sgns in.out', 'hash-test', '{\"hr@10\":0.4121,"
                 "\"ndcg@10\":0.2502,\"coverage@10\":0.88,\"novelty\":2.9}',"
                 " '2026-01-02T00:00:00Z'),"
                 " (1, 'synonyms sgns in.in', 'hash-test', '{\"k\":10,\"items\":40,"
                 "\"category_purity@10\":0.77,\"copurchase_rate\":0.009}',"
                 " '2026-01-02T00:00:00Z'),"
                 " (0, 'popularity', 'hash-test', '{\"hr@10\":0.0900,\"ndcg@10\":0.0450}',"
                 " '2025-12-31T00:00:00Z'),"
                 " (0, 'sgns in.out', 'hash-test', '{\"hr@10\":0.1010,\"ndcg@10\":0.0600}',"
                 " '2025-12-31T00:00:00Z')"))
            goto done;
        /* what each evaluation measured: Springfield's the active models; all cities'
         * sgns row a product model since replaced (#99: stale) */
        if (exec(s, "UPDATE evaluations SET models = CASE"
                    " WHEN city_id = 1 AND method IN ('sgns in.out', 'synonyms sgns in.in')"
                    " THEN '{\"product\":3}'"
                    " WHEN city_id = 1 AND method = 'category sgns in.out' THEN '{\"category\":4}'"
                    " WHEN city_id = 1 AND method = 'completion blend' THEN '{\"product\":3}'"
                    " WHEN city_id = 0 AND method = 'sgns in.out' THEN '{\"product\":99}'"
                    " END"))
            goto done;
        if (exec(s,
                 "INSERT INTO runs(city_id, kind, grid, params, metrics, seconds, created_at,"
                 " model_id, selected) VALUES"
                 " (1, 'product', 'g', '{\"dim\":16,\"epochs\":5}', '{\"hr@10\":0.0920,"
                 "\"ndcg@10\":0.050}', 1.2, '2026-01-01', NULL, 0),"
                 " (1, 'product', 'g', '{\"dim\":16,\"epochs\":20}', '{\"hr@10\":0.1101,"
                 "\"ndcg@10\":0.061}', 3.4, '2026-01-01', NULL, 0),"
                 " (1, 'product', 'g', '{\"dim\":32,\"epochs\":5}', '{\"hr@10\":0.1015,"
                 "\"ndcg@10\":0.055}', 2.0, '2026-01-01', NULL, 0),"
                 " (1, 'product', 'g', '{\"dim\":32,\"epochs\":20}', '{\"hr@10\":0.1402,"
                 "\"ndcg@10\":0.080}', 6.1, '2026-01-01', 3, 1),"
                 " (1, 'product', 'g', '{\"dim\":64,\"epochs\":20}', '{\"hr@10\":0.1333,"
                 "\"ndcg@10\":0.077}', 9.8, '2026-01-01', NULL, 0),"
                 " (1, 'completion', '', '{\"method\":\"popularity\",\"weights\":"
                 "{\"popularity\":1}}', '{\"hr@10\":0.0850,\"ndcg@10\":0.0410}', 0.1,"
                 " '2026-01-01', NULL, 0),"
                 " (1, 'completion', '', '{\"method\":\"sgns\",\"weights\":{\"sgns\":1}}',"
                 " '{\"hr@10\":0.1402,\"ndcg@10\":0.0803}', 0.2, '2026-01-01', NULL, 0),"
                 " (1, 'completion', '', '{\"method\":\"blend\",\"weights\":{\"sgns\":0.6,"
                 "\"ease\":0.4}}', '{\"hr@10\":0.1503,\"ndcg@10\":0.0850}', 0.3,"
                 " '2026-01-01', NULL, 1),"
                 " (1, 'completion', '', '{\"method\":\"ease\",\"weights\":{\"ease\":1}}',"
                 " '{\"hr@10\":0.1110,\"ndcg@10\":0.0601}', 0.2, '2026-01-01', NULL, 0)"))
            goto done;
        if (exec(s, "INSERT INTO meta(key, value) VALUES ('completion:1', '{\"method\":"
                    "\"blend\",\"weights\":{\"sgns\":0.6,\"ease\":0.4},\"models\":"
                    "{\"product\":3},\"run\":8,\"metrics\":{\"k\":10,\"hr@10\":0.1503,"
                    "\"ndcg@10\":0.0850}}')"))
            goto done;
    }
    rc = 0;
done:
    if (rc)
        rs_store_rollback(s);
    rs_store_close(s);
    return rc;
}

/* test_recommend_i11.c - regression tests of issue 11 for the recommenders, one
 * function per item, named i11_<item>_<what>:
 *   i11_01_no_output_*   a model without output vectors (a word2vec import, a model
 *                        file without them): every kind that needs them says it is
 *                        unavailable (status and message), per kind, in single queries
 *                        and in batches; the scorer refuses sgns without them; nothing
 *                        dereferences NULL (this file runs under ASan in CI)
 *   i11_09_empty_name    an empty or all-space name resolves to no product
 *   i11_11_unknown_context  a context the completion scorer knows nothing of (products
 *                        not in its models, no product at all) gets the popularity
 *                        fallback, marked, in single queries and both batch paths
 *   i11_15_*             the table pads by display columns and lets no control or bidi
 *                        character through; JSON escapes C1 and bidi
 *   i11_17_batch_fallback  batch lines carry the fallback flags
 * The world is tests/rec_world.c's; the CLI checks need RS_BIN. */
#include <cjson/cJSON.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <wchar.h>

#include "completion.h"
#include "completion_choice.h"
#include "jsonw.h"
#include "model.h"
#include "rec_world.h"
#include "recommend.h"
#include "sgns.h"
#include "store.h"
#include "testlib.h"
#include "w2v_import.h"

static const char *const PEXT[NP] = {"P1", "P2", "P3", "P4",  "P5",  "P6",
                                     "P7", "P8", "P9", "P10", "P11", "P12"};
static const char *const CEXT[NC] = {"cat1", "cat2", "cat3", "cat4"};

/* A fresh copy of the world in its own directory. */
static rs_store *fresh_world(char *db, size_t n)
{
    return build_world(test_tmpdir(), db, n);
}

static rs_recommender *open_rec_opt(rs_store *s, int64_t city, int shared_sgns,
                                    int no_completion)
{
    rs_rec_options o;
    rs_rec_options_defaults(&o);
    o.shared_sgns = shared_sgns;
    o.no_completion = no_completion;
    rs_recommender *r = NULL;
    rs_error e = {0};
    if (rs_recommender_open(s, city, &o, &r, &e) != RS_OK) {
        fprintf(stderr, "open: %s\n", e.msg);
        return NULL;
    }
    return r;
}

static rs_recommender *open_rec(rs_store *s, int64_t city, int shared_sgns)
{
    return open_rec_opt(s, city, shared_sgns, 0);
}

static void query_defaults(rs_rec_query *q, const int32_t *p, int n, unsigned kinds)
{
    rs_rec_query_defaults(q);
    q->products = p;
    q->n_products = n;
    q->kinds = kinds;
    q->flags = RS_REC_NO_MASK;
}

#define ALL4 (RS_REC_ALL_KINDS | RS_REC_BIT(RS_REC_COMPLETION))

/* The list of kind k says it needs output vectors. */
static int says_no_output(const rs_rec_list *l)
{
    return l->status == RS_EDATA && l->n == 0 && strstr(l->message, "output vectors") != NULL;
}

/* Runs the four kinds for P5 (and a basket) single and as a batch of three. */
static void run_all(const rs_recommender *r, rs_rec_result **res, int32_t *p, int n)
{
    rs_rec_query qs[3];
    rs_error errs[3];
    int codes[3];
    for (int i = 0; i < 3; i++)
        query_defaults(&qs[i], p, n - (i == 2 && n > 1), ALL4);
    rs_error e = {0};
    CHECK_EQ_INT(rs_recommend(r, &qs[0], res[0], &e), RS_OK);
    rs_recommend_many(r, qs, 3, res, codes, errs);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(codes[i], RS_OK);
}

static void i11_01_no_output_product_w2v(void)
{
    char db[1024];
    rs_store *s = fresh_world(db, sizeof db);
    CHECK(s != NULL);
    if (!s)
        return;
    /* the README's way to browse gensim vectors: input vectors only */
    char text[4096];
    size_t o = (size_t)snprintf(text, sizeof text, "%d %d\n", NP, PDIM);
    for (int i = 0; i < NP && o < sizeof text; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s %g %g %g %g\n", PEXT[i],
                              pin[0][i * PDIM], pin[0][i * PDIM + 1], pin[0][i * PDIM + 2],
                              pin[0][i * PDIM + 3]);
    rs_w2v_import_opts io = {.input = test_write_file(test_tmpdir(), "vec.txt", text),
                             .format = RS_W2V_AUTO,
                             .kind = RS_KIND_PRODUCT,
                             .activate = 1};
    rs_w2v_import_result ir;
    rs_error e = {0};
    CHECK_EQ_INT(rs_w2v_import(s, &io, &ir, &e), RS_OK);
    CHECK_EQ_INT(ir.has_output, 0);
    rs_rec_result *res[3] = {rs_rec_result_new(), rs_rec_result_new(), rs_rec_result_new()};
    for (int no_completion = 0; no_completion <= 1; no_completion++) {
        rs_recommender *r = open_rec_opt(s, 0, 1, no_completion);
        CHECK(r != NULL);
        if (!r || !res[0] || !res[1] || !res[2]) {
            rs_recommender_close(r);
            continue;
        }
        CHECK_EQ_INT(rs_rec_check_models(r, ALL4, &e), RS_OK); /* not broken */
        int32_t p[2] = {4, 7};
        run_all(r, res, p, 2);
        for (int i = 0; i < 3; i++) {
            const rs_rec_list *l = res[i]->lists;
            CHECK_EQ_INT(l[RS_REC_SYNONYMS].status, RS_OK); /* input vectors suffice */
            CHECK(l[RS_REC_SYNONYMS].n > 0);
            CHECK_EQ_INT(l[RS_REC_CATEGORIES].status, RS_OK); /* the category model is whole */
            if (no_completion) {
                /* in.out would be the ranking: unavailable */
                CHECK(says_no_output(&l[RS_REC_COMPLEMENTS]));
                continue;
            }
            /* no choice stored: completion falls back to popularity, not to in.out, and
             * popularity ranks the complements inside their categories */
            CHECK_EQ_INT(l[RS_REC_COMPLETION].status, RS_OK);
            CHECK(l[RS_REC_COMPLETION].n > 0);
            CHECK_STR(l[RS_REC_COMPLETION].model_path, "popularity");
            CHECK_EQ_INT(l[RS_REC_COMPLEMENTS].status, RS_OK);
            CHECK_STR(l[RS_REC_COMPLEMENTS].scorer, "popularity");
        }
        rs_recommender_close(r);
    }
    for (int i = 0; i < 3; i++)
        rs_rec_result_free(res[i]);
    rs_recommender *r = NULL;

    /* a stored choice that names the output-less model: the scorer refuses it, the
     * completion list says why (no crash in the kernels' packing) */
    rs_completion_choice ch;
    memset(&ch, 0, sizeof ch);
    ch.weights[RS_COMP_SGNS] = 1.0;
    ch.models[RS_COMP_SGNS] = ir.id;
    CHECK_EQ_INT(rs_choice_save(s, RS_CHOICE_COMPLETION, RS_BASKETS_PRODUCTS, 0, &ch, &e),
                 RS_OK);
    r = open_rec(s, 0, 0);
    rs_rec_result *one = rs_rec_result_new();
    if (r && one) {
        int32_t p = 4;
        rs_rec_query q;
        query_defaults(&q, &p, 1, ALL4);
        CHECK_EQ_INT(rs_recommend(r, &q, one, &e), RS_OK);
        const rs_rec_list *l = &one->lists[RS_REC_COMPLETION];
        CHECK(l->status != RS_OK && l->n == 0 && strstr(l->message, "output vectors"));
    }
    rs_rec_result_free(one);
    rs_recommender_close(r);
    rs_store_close(s);
}

static void i11_01_no_output_category(void)
{
    char db[1024];
    rs_store *s = fresh_world(db, sizeof db);
    CHECK(s != NULL);
    if (!s)
        return;
    int64_t id;
    CHECK_EQ_INT(save_model(s, rs_store_models_dir(s), "category-noout.rsm", RS_KIND_CATEGORY, 0,
                            NC, CDIM, cin, NULL, CEXT, &id),
                 RS_OK);
    rs_recommender *r = open_rec(s, 0, 1);
    rs_rec_result *res[3] = {rs_rec_result_new(), rs_rec_result_new(), rs_rec_result_new()};
    CHECK(r != NULL);
    if (r && res[0] && res[1] && res[2]) {
        int32_t p[1] = {4};
        run_all(r, res, p, 1);
        for (int i = 0; i < 3; i++) {
            const rs_rec_list *l = res[i]->lists;
            CHECK_EQ_INT(l[RS_REC_SYNONYMS].status, RS_OK);
            CHECK(says_no_output(&l[RS_REC_CATEGORIES]));
            CHECK(says_no_output(&l[RS_REC_COMPLEMENTS]));
            CHECK(strstr(l[RS_REC_COMPLEMENTS].message, "category") != NULL);
            CHECK_EQ_INT(l[RS_REC_COMPLETION].status, RS_OK); /* sgns in.out: whole */
            CHECK(l[RS_REC_COMPLETION].n > 0);
        }
    }
    for (int i = 0; i < 3; i++)
        rs_rec_result_free(res[i]);
    rs_recommender_close(r);
    rs_store_close(s);
}

/* The scorer itself: sgns without output vectors is refused with a reason. */
static void i11_01_no_output_scorer(void)
{
    rs_embedding m;
    memset(&m, 0, sizeof m);
    int32_t row_item[NP], item_row[NP];
    for (int i = 0; i < NP; i++)
        row_item[i] = item_row[i] = i;
    m.n_items = m.rows = NP;
    m.dim = PDIM;
    m.row_item = row_item;
    m.item_row = item_row;
    m.in = pin[0];
    rs_completion_parts parts;
    memset(&parts, 0, sizeof parts);
    parts.n_items = NP;
    parts.sgns = &m;
    parts.weights[RS_COMP_SGNS] = 1.0;
    rs_completion *c = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_completion_from_parts(&parts, &c, &e), RS_EDATA);
    CHECK(c == NULL && strstr(e.msg, "output vectors") != NULL);
    rs_completion_close(c);
}

static void i11_09_empty_name(void)
{
    char db[1024];
    rs_store *s = fresh_world(db, sizeof db);
    rs_recommender *r = s ? open_rec(s, 0, 0) : NULL;
    CHECK(r != NULL);
    if (r) {
        const char *empty[] = {"", " ", "\t  \n"};
        for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
            int32_t idx = -7, hits[4];
            int n = -1;
            rs_error e = {0};
            CHECK_EQ_INT(rs_rec_resolve(r, empty[i], &idx, &e), RS_EUSAGE);
            CHECK_EQ_INT(idx, -7);
            CHECK(strstr(e.msg, "empty") != NULL);
            CHECK_EQ_INT(rs_rec_search(r, empty[i], hits, 4, &n, &e), RS_OK);
            CHECK_EQ_INT(n, 0);
        }
        int32_t idx = -1;
        rs_error e = {0};
        CHECK_EQ_INT(rs_rec_resolve(r, "corn", &idx, &e), RS_OK); /* words still work */
        CHECK_EQ_INT(idx, 3);
    }
    rs_recommender_close(r);
    rs_store_close(s);
}

/* The expected popularity fallback: the most popular products, ties by index. */
static void check_popularity(const rs_recommender *r, const rs_rec_list *l, int32_t exclude)
{
    const int64_t *pop = rs_rec_popularity_counts(r);
    CHECK_EQ_INT(l->status, RS_OK);
    CHECK_EQ_INT(l->popularity_fallback, 1);
    CHECK(strstr(l->model_path, "popularity") != NULL);
    CHECK(l->n > 0);
    for (int i = 0; i < l->n; i++) {
        int32_t p = l->rows[i].index;
        CHECK(p != exclude && pop[p] > 0);
        CHECK_NEAR(l->rows[i].score, log1p((double)pop[p]), 1e-5);
        if (i > 0) {
            int32_t a = l->rows[i - 1].index;
            CHECK(pop[a] > pop[p] || (pop[a] == pop[p] && a < p));
        }
    }
}

static void i11_11_unknown_context(void)
{
    char db[1024];
    rs_store *s = fresh_world(db, sizeof db);
    CHECK(s != NULL);
    if (!s)
        return;
    /* a product model that does not hold P12 (index 11): a context of P12 alone is
     * unknown to the sgns scorer (no choice stored: sgns alone answers) */
    int64_t id;
    CHECK_EQ_INT(save_model(s, rs_store_models_dir(s), "product-11.rsm", RS_KIND_PRODUCT, 0,
                            NP - 1, PDIM, pin[0], pout[0], PEXT, &id),
                 RS_OK);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) { /* a blend: the block path of rs_recommend_many */
            rs_completion_choice ch;
            memset(&ch, 0, sizeof ch);
            ch.weights[RS_COMP_SGNS] = 0.7;
            ch.weights[RS_COMP_POPULARITY] = 0.3;
            rs_error e = {0};
            CHECK_EQ_INT(rs_choice_save(s, RS_CHOICE_COMPLETION, RS_BASKETS_PRODUCTS, 0, &ch, &e),
                         RS_OK);
        }
        rs_recommender *r = open_rec(s, 0, 1);
        rs_rec_result *res[3] = {rs_rec_result_new(), rs_rec_result_new(), rs_rec_result_new()};
        CHECK(r != NULL);
        if (!r || !res[0] || !res[1] || !res[2]) {
            rs_recommender_close(r);
            continue;
        }
        int32_t unknown = 11, known = 4;
        rs_rec_query q;
        rs_error e = {0};
        query_defaults(&q, &unknown, 1, RS_REC_BIT(RS_REC_COMPLETION));
        CHECK_EQ_INT(rs_recommend(r, &q, res[0], &e), RS_OK);
        check_popularity(r, &res[0]->lists[RS_REC_COMPLETION], unknown);
        /* no product at all: completion alone may ask, and popularity answers */
        query_defaults(&q, NULL, 0, RS_REC_BIT(RS_REC_COMPLETION));
        CHECK_EQ_INT(rs_recommend(r, &q, res[0], &e), RS_OK);
        check_popularity(r, &res[0]->lists[RS_REC_COMPLETION], -1);
        query_defaults(&q, NULL, 0, ALL4); /* but not the other kinds */
        CHECK_EQ_INT(rs_recommend(r, &q, res[0], &e), RS_EUSAGE);
        /* a batch (fused top-k for sgns alone, the block for the blend) */
        rs_rec_query qs[3];
        query_defaults(&qs[0], &unknown, 1, RS_REC_BIT(RS_REC_COMPLETION));
        query_defaults(&qs[1], &known, 1, RS_REC_BIT(RS_REC_COMPLETION));
        query_defaults(&qs[2], NULL, 0, RS_REC_BIT(RS_REC_COMPLETION));
        int codes[3];
        rs_error errs[3];
        rs_recommend_many(r, qs, 3, res, codes, errs);
        CHECK(codes[0] == RS_OK && codes[1] == RS_OK && codes[2] == RS_OK);
        check_popularity(r, &res[0]->lists[RS_REC_COMPLETION], unknown);
        check_popularity(r, &res[2]->lists[RS_REC_COMPLETION], -1);
        const rs_rec_list *kl = &res[1]->lists[RS_REC_COMPLETION];
        CHECK(kl->status == RS_OK && kl->n > 0 && kl->popularity_fallback == 0);
        for (int i = 0; i < 3; i++)
            rs_rec_result_free(res[i]);
        rs_recommender_close(r);
    }
    rs_store_close(s);
}

/* ---- the CLI ---- */

static char *run_cmd(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 >= cap) {
            char *q = realloc(buf, cap *= 2);
            if (!q)
                free(buf);
            buf = q;
        }
    }
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (buf)
        buf[n] = 0;
    return buf;
}

static void i11_09_empty_name_cli(const char *bin, const char *db)
{
    const char *args[] = {"--name ''", "--name '  '", "--name=", "--product ''", "--basket ''"};
    char cmd[2048];
    for (size_t i = 0; i < sizeof args / sizeof *args; i++) {
        int st;
        snprintf(cmd, sizeof cmd, "'%s' --db '%s' recommend %s 2>/dev/null", bin, db, args[i]);
        char *out = run_cmd(cmd, &st);
        CHECK_EQ_INT(st, 1);
        CHECK(out && out[0] == 0); /* no answer for an arbitrary product */
        free(out);
    }
}

/* Display width of the UTF-8 line s up to byte n (C.UTF-8 locale). */
static int cols_of(const char *s, size_t n)
{
    wchar_t w[1024];
    char tmp[4096];
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    size_t k = mbstowcs(w, tmp, 1024);
    return k == (size_t)-1 ? -1 : wcswidth(w, k);
}

static void i11_15_table_and_json(const char *bin, const char *db)
{
    rs_error e = {0};
    rs_store *s = NULL;
    CHECK_EQ_INT(rs_store_open(db, RS_STORE_CREATE, &s, &e), RS_OK);
    if (!s)
        return;
    /* hostile names in category Cereal (P4..P6): wide CJK, emoji, RLO and CSI (C1) */
    CHECK_EQ_INT(rs_store_exec(s,
                               "UPDATE products SET name = '東京バナナ東京バナナ東京バナナ東京バナナ東京'"
                               " WHERE ext_id = 'P5';"
                               "UPDATE products SET name = '🍌🍌 Banana split 🍌' WHERE ext_id = 'P6';"
                               "UPDATE products SET name = 'evil' || char(8238) || 'exe.txt' ||"
                               " char(155) || '2J' || char(27) || ']0;x' WHERE ext_id = 'P4';",
                               &e),
                 RS_OK);
    rs_store_close(s);
    char cmd[2048];
    int st;
    snprintf(cmd, sizeof cmd,
             "LC_ALL=C.UTF-8 '%s' --db '%s' recommend --product P4 --kind synonyms --no-mask "
             "--own-category 2>&1",
             bin, db);
    char *out = run_cmd(cmd, &st);
    CHECK_EQ_INT(st, 0);
    if (out) {
        CHECK(strstr(out, "\xe2\x80\xae") == NULL); /* U+202E */
        CHECK(strstr(out, "\xc2\x9b") == NULL);     /* CSI */
        CHECK(strchr(out, '\x1b') == NULL);
        /* every row of the table: the score column starts at the same display column */
        int want = -1, rows = 0;
        for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
            if (strncmp(l, "    ", 4) != 0 || !strstr(l, "Cereal"))
                continue;
            char *c = strstr(l, "Cereal");
            int w = cols_of(l, (size_t)(c - l));
            rows++;
            if (want < 0)
                want = w;
            if (w != want)
                test_fail_at(__FILE__, __LINE__, "row at column %d, first at %d: %s", w, want, l);
        }
        CHECK(rows >= 2);
    }
    free(out);
    /* a terminal that is not UTF-8: nothing above ASCII */
    snprintf(cmd, sizeof cmd,
             "LC_ALL=C '%s' --db '%s' recommend --product P4 --kind synonyms --no-mask 2>&1", bin,
             db);
    out = run_cmd(cmd, &st);
    CHECK_EQ_INT(st, 0);
    for (const char *p = out; p && *p; p++)
        if ((unsigned char)*p >= 0x80 || ((unsigned char)*p < 0x20 && *p != '\n')) {
            test_fail_at(__FILE__, __LINE__, "byte 0x%02x in the ASCII table", (unsigned char)*p);
            break;
        }
    free(out);
    /* JSON (the single answer, and batch errors quoting an id): C1 and bidi escaped */
    snprintf(cmd, sizeof cmd,
             "printf 'P4\\n[\"x\\302\\233y\\342\\200\\256\"]\\n' | '%s' --db '%s' recommend "
             "--batch - --no-mask; '%s' --db '%s' recommend --product P4 --json",
             bin, db, bin, db);
    out = run_cmd(cmd, &st);
    CHECK_EQ_INT(st, 0);
    CHECK(out && strstr(out, "\xe2\x80\xae") == NULL && strstr(out, "\xc2\x9b") == NULL);
    CHECK(out && strstr(out, "\\u202e") && strstr(out, "\\u009b"));
    free(out);
}

static void i11_17_batch_fallback(const char *bin, const char *db)
{
    char cmd[2048];
    int st;
    /* Springfield has its own product model, no category model: categories fall back */
    snprintf(cmd, sizeof cmd,
             "printf 'P1 P4\\n[\"NOPE\"]\\n' | '%s' --db '%s' recommend --batch - --city Springfield",
             bin, db);
    char *out = run_cmd(cmd, &st);
    CHECK_EQ_INT(st, 0);
    int line = 0;
    for (char *l = out ? strtok(out, "\n") : NULL; l; l = strtok(NULL, "\n"), line++) {
        cJSON *o = cJSON_Parse(l);
        cJSON *f = cJSON_GetObjectItem(o, "fallback");
        CHECK(cJSON_IsObject(f));
        if (line == 0) {
            CHECK(cJSON_IsFalse(cJSON_GetObjectItem(f, "synonyms")));
            CHECK(cJSON_IsTrue(cJSON_GetObjectItem(f, "categories")));
            CHECK(cJSON_IsTrue(cJSON_GetObjectItem(f, "complements")));
        } else {
            /* an unknown id alone: the popularity fallback, marked, and the error */
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(o, "completion")) > 0);
            CHECK(cJSON_IsTrue(cJSON_GetObjectItem(f, "completion")));
            CHECK(cJSON_IsString(cJSON_GetObjectItem(o, "error")));
            CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(o, "synonyms")), 0);
        }
        cJSON_Delete(o);
    }
    CHECK_EQ_INT(line, 2);
    free(out);
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    i11_01_no_output_product_w2v();
    i11_01_no_output_category();
    i11_01_no_output_scorer();
    i11_09_empty_name();
    i11_11_unknown_context();
    const char *bin = getenv("RS_BIN");
    if (!bin) {
        printf("RS_BIN unset: CLI checks skipped\n");
        return test_summary();
    }
    char db[1024];
    rs_store *s = fresh_world(db, sizeof db);
    CHECK(s != NULL);
    rs_store_close(s);
    i11_09_empty_name_cli(bin, db);
    i11_17_batch_fallback(bin, db);
    i11_15_table_and_json(bin, db);
    return test_summary();
}

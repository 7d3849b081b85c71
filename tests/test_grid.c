/* test_grid.c - grid files: parsing, errors naming the key, combinations, params. */
#include <stdlib.h>
#include <string.h>

#include "../core/als.h"
#include "../core/ease.h"
#include "../core/grid.h"
#include "testlib.h"

#define SGNS (&RS_SGNS_PARAMS)
#define ALS (&RS_ALS_PARAMS)
#define EASE (&RS_EASE_PARAMS)
/* the groups' structs inside a rs_train_params */
#define SG(p) ((rs_sgns_params *)rs_params_get(&(p), SGNS))
#define AL(p) ((rs_als_params *)rs_params_get(&(p), ALS))
#define EA(p) ((rs_ease_params *)rs_params_get(&(p), EASE))

static void test_combinations(void)
{
    rs_grid *g = NULL;
    rs_error e = {0};
    const char *text = "{\"epochs\": [50, 100, 150], \"ns_exponent\": [-0.5, 0, 0.75],\n"
                       " \"subsample\": [1e-5], \"als_factors\": [32, 64],\n"
                       " \"ease_lambda\": [100, 300, 1000, 3000]}";
    CHECK_EQ_INT(rs_grid_parse(text, "g.json", &g, &e), RS_OK);
    if (!g)
        return;
    CHECK_EQ_INT(rs_grid_count(g, SGNS), 9);
    CHECK_EQ_INT(rs_grid_count(g, ALS), 2);
    CHECK_EQ_INT(rs_grid_count(g, EASE), 4);
    CHECK_STR(rs_grid_text(g), text);
    /* every SGNS combination once; the last key varies fastest */
    int seen[3][3] = {{0}};
    for (int i = 0; i < 9; i++) {
        rs_train_params p;
        rs_train_params_defaults(&p);
        CHECK_EQ_INT(rs_grid_apply(g, SGNS, i, &p, &e), RS_OK);
        int ei = SG(p)->epochs / 50 - 1;
        int ni = SG(p)->ns_exponent < -0.1 ? 0 : SG(p)->ns_exponent < 0.1 ? 1 : 2;
        CHECK(ei >= 0 && ei < 3);
        if (ei >= 0 && ei < 3)
            seen[ei][ni]++;
        CHECK_NEAR(SG(p)->subsample, 1e-5, 1e-20);
        CHECK_EQ_INT(AL(p)->factors, 64); /* other groups untouched (default) */
        if (i == 1) {
            CHECK_EQ_INT(SG(p)->epochs, 50);
            CHECK_NEAR(SG(p)->ns_exponent, 0.0, 0.0);
        }
    }
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            CHECK_EQ_INT(seen[a][b], 1);
    rs_train_params p;
    rs_train_params_defaults(&p);
    CHECK_EQ_INT(rs_grid_apply(g, EASE, 3, &p, &e), RS_OK);
    CHECK_NEAR(EA(p)->lambda, 3000, 0);
    CHECK_EQ_INT(SG(p)->epochs, 20); /* the SGNS default */
    rs_grid_free(g);
    /* no grid: one combination */
    CHECK_EQ_INT(rs_grid_count(NULL, SGNS), 1);
}

static void expect_error(const char *text, const char *needle)
{
    rs_grid *g = NULL;
    rs_error e = {0};
    int rc = rs_grid_parse(text, "grid.json", &g, &e);
    CHECK_EQ_INT(rc, RS_EDATA);
    CHECK(g == NULL);
    if (!strstr(e.msg, needle))
        test_fail_at(__FILE__, __LINE__, "message '%s' lacks '%s'", e.msg, needle);
    else
        test_passed++;
    rs_grid_free(g);
}

static void test_errors(void)
{
    expect_error("{\"epochs\": [5], \"epoch\": [10]}", "unknown key \"epoch\"");
    expect_error("{\"dim\": 64}", "key \"dim\": the value must be a non-empty list");
    expect_error("{\"dim\": []}", "key \"dim\"");
    expect_error("{\"lr\": [0.1, \"fast\"]}", "key \"lr\": element 2 is not a number");
    expect_error("{\"dim\": [64.5]}", "'dim': 64.5 is not an integer");
    expect_error("{\"subsample\": [2]}", "'subsample': 2 is out of range");
    expect_error("{\"dim\": [8], \"dim\": [16]}", "\"dim\" appears twice");
    expect_error("[1, 2]", "must be a JSON object");
    expect_error("{\"dim\": [8],\n \"epochs\": [1,, 2]}", "grid.json:2:");
    expect_error("{\"dim\": [8],\n \"epochs\": [1,, 2]}", "invalid JSON");
    expect_error("", "invalid JSON");
}

static void test_params(void)
{
    rs_train_params p;
    rs_error e = {0};
    rs_train_params_defaults(&p);
    CHECK_EQ_INT(rs_param_set_text(&p, "ns_exponent", "-1", &e), RS_OK);
    CHECK_NEAR(SG(p)->ns_exponent, -1.0, 0);
    CHECK_EQ_INT(rs_param_set_text(&p, "window", "0", &e), RS_OK);
    CHECK_EQ_INT(rs_param_set_text(&p, "epochs", "ten", &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "'epochs'") != NULL);
    CHECK_EQ_INT(rs_param_set_text(&p, "bogus", "1", &e), RS_EUSAGE);
    CHECK_EQ_INT(rs_param_set(&p, "als_lambda", 0.0, &e), RS_EUSAGE);
    const rs_param_group *g;
    CHECK(rs_param_known("als_iters", &g) && g == ALS);
    CHECK(rs_param_known("ease_lambda", &g) && g == EASE);
    CHECK(!rs_param_known("seed", &g));
    char *j = rs_params_json(&p, SGNS);
    CHECK(j && strstr(j, "\"ns_exponent\":-1"));
    free(j);
    j = rs_params_json(&p, EASE);
    CHECK(j && strstr(j, "\"ease_lambda\":100"));
    free(j);
    CHECK(rs_kind_find("category")->params == SGNS);
    CHECK(rs_kind_find("ease")->params == EASE);
    CHECK(rs_kind_find("nope") == NULL);
}

static void test_shipped_grid(void)
{
    rs_grid *g = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_grid_load(RS_SOURCE_ROOT "/assets/grid.json", &g, &e), RS_OK);
    if (!g) {
        fprintf(stderr, "%s\n", e.msg);
        return;
    }
    /* it spans the literature's ranges: epochs 50..150, subsample down to 1e-5,
     * ns_exponent -1..1 */
    double lo_ep = 1e9, hi_ep = 0, lo_ss = 1, lo_ns = 9, hi_ns = -9;
    for (int64_t i = 0; i < rs_grid_count(g, SGNS); i++) {
        rs_train_params p;
        rs_train_params_defaults(&p);
        CHECK_EQ_INT(rs_grid_apply(g, SGNS, i, &p, &e), RS_OK);
        if (SG(p)->epochs < lo_ep) lo_ep = SG(p)->epochs;
        if (SG(p)->epochs > hi_ep) hi_ep = SG(p)->epochs;
        if (SG(p)->subsample < lo_ss) lo_ss = SG(p)->subsample;
        if (SG(p)->ns_exponent < lo_ns) lo_ns = SG(p)->ns_exponent;
        if (SG(p)->ns_exponent > hi_ns) hi_ns = SG(p)->ns_exponent;
    }
    CHECK(lo_ep <= 50 && hi_ep >= 150);
    CHECK(lo_ss <= 1e-5);
    CHECK(lo_ns <= -1 && hi_ns >= 1);
    CHECK(rs_grid_count(g, ALS) >= 2);
    CHECK(rs_grid_count(g, EASE) >= 2);
    rs_grid_free(g);
    CHECK_EQ_INT(rs_grid_load("/nonexistent/grid.json", &g, &e), RS_EUSAGE);
}

int main(void)
{
    test_combinations();
    test_errors();
    test_params();
    test_shipped_grid();
    return test_summary();
}

/* test_regressions.c - unit tests for bugs found by fuzzing and the hardening tests.
 * (Crashing inputs themselves live in fuzz/regressions/ and are replayed by the
 * fuzz_replay_* tests.)  Each test names the reproducer it comes from.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ease.h"
#include "grid.h"
#include "model.h"
#include "testlib.h"

#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define REG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REG_ASAN 1
#endif
#endif
#ifdef REG_ASAN
/* Allocations above 1 GiB fail (return NULL) instead of being served. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "max_allocation_size_mb=1024:allocator_may_return_null=1";
}
#endif

/* fuzz/regressions/fuzz_grid-ease-lambda-int-overflow.json: rs_param_set converted every
 * value to int, also for the real-valued ease_lambda, whose allowed range goes beyond
 * INT_MAX: undefined behaviour (UBSan: "not representable in type 'int'"). */
static void test_grid_big_real_value(void)
{
    rs_train_params p;
    rs_train_params_defaults(&p);
    rs_error e;
    memset(&e, 0, sizeof e);
    int rc = rs_param_set(&p, "ease_lambda", 46666666669.0, &e);
    if (rc == RS_OK)
        CHECK_NEAR(((rs_ease_params *)rs_params_get(&p, &RS_EASE_PARAMS))->lambda, 46666666669.0, 1.0);
    else
        CHECK_EQ_INT(rc, RS_EUSAGE); /* rejecting it as out of range is fine too */
    rs_grid *g = NULL;
    rc = rs_grid_parse("{\"dim\": [1], \"ease_lambda\": [46666666669, 100, 300]}", "t.json", &g, &e);
    if (rc == RS_OK) {
        CHECK_EQ_INT((int)rs_grid_count(g, &RS_EASE_PARAMS), 3);
        rs_train_params q;
        rs_train_params_defaults(&q);
        CHECK_EQ_INT(rs_grid_apply(g, &RS_EASE_PARAMS, 0, &q, &e), RS_OK);
        CHECK_NEAR(((rs_ease_params *)rs_params_get(&q, &RS_EASE_PARAMS))->lambda, 46666666669.0, 1.0);
        rs_grid_free(g);
    } else {
        CHECK_EQ_INT(rc, RS_EDATA);
    }
    /* integer parameters beyond int are rejected, never converted */
    rs_train_params_defaults(&p);
    rc = rs_param_set(&p, "epochs", 1e12, &e);
    CHECK(rc != RS_OK);
}

/* fuzz/regressions/fuzz_model-huge-n-items-oom.rsm: a 20 KiB model file (35 rows, dim 4)
 * whose header claims n_items = 654311424.  rs_model_load allocated and filled
 * n_items x 4 bytes (2.6 GB) for the item -> row index before noticing anything: any
 * file could make a reader (TUI, recommend) allocate up to 8 GiB.  The loader must
 * refuse an item count the file cannot justify with a data error, not allocate it
 * (the allocation cap below turns such an allocation into a failure). */
static void test_model_huge_n_items(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/fuzz/regressions/fuzz_model-huge-n-items-oom.rsm",
             RS_SOURCE_ROOT);
    rs_embedding *m = NULL;
    rs_error e;
    memset(&e, 0, sizeof e);
    int rc = rs_model_load(path, &m, &e);
    CHECK_EQ_INT(rc, RS_EDATA);
    CHECK(m == NULL);
    if (rc != RS_EDATA)
        fprintf(stderr, "  rs_model_load: rc %d: %s\n", rc, e.msg);
    rs_embedding_free(m);
}

int main(void)
{
#ifndef REG_ASAN
    struct rlimit rl = {(rlim_t)1 << 30, (rlim_t)1 << 30};
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
#endif
    test_grid_big_real_value();
    test_model_huge_n_items();
    return test_summary();
}

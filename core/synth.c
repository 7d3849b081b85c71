/* synth.c - the synthetic retail world: parameters and rs_synth_run(), which ties the
 * word lists, the world and the writers together (see synth.h for the model). */
#include "synth.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "synth_internal.h"
#include "timeutil.h"

static int check_params(const rs_synth_params *p, const assets_t *as, rs_error *e)
{
    if (p->cities < 1 || p->cities > as->cities.n)
        return rs_seterr(e, RS_EUSAGE, "--cities must be 1..%d (the names in cities.txt)",
                         as->cities.n);
    if (p->departments < 1 || p->departments > as->ndept)
        return rs_seterr(e, RS_EUSAGE,
                         "--departments must be 1..%d (the names in departments.txt)", as->ndept);
    if (p->categories < p->departments || p->categories > 1000000)
        return rs_seterr(e, RS_EUSAGE, "--categories must be %d..1000000 (at least one per "
                         "department)", p->departments);
    if (p->products < 2 * (int64_t)p->categories || p->products > 100000000)
        return rs_seterr(e, RS_EUSAGE,
                         "--products must be %lld..100000000 (at least two per category)",
                         2 * (long long)p->categories);
    if (p->receipts < 0 || p->receipts > 500000000)
        return rs_seterr(e, RS_EUSAGE, "--receipts must be 0..500000000");
    if (!(p->mean_receipt_size >= 1.0 && p->mean_receipt_size <= 30.0) ||
        p->max_receipt_size < 1 || p->max_receipt_size > 10000)
        return rs_seterr(e, RS_EUSAGE, "receipt size: mean must be 1..30, maximum 1..10000");
    if (!(p->companion_prob >= 0 && p->companion_prob <= 1) ||
        !(p->grouped_share >= 0 && p->grouped_share <= 1) ||
        !(p->dup_prob >= 0 && p->dup_prob <= 1))
        return rs_seterr(e, RS_EUSAGE, "probabilities must lie in [0, 1]");
    if (!(p->category_zipf >= 0 && p->category_zipf <= 5) ||
        !(p->need_zipf >= 0 && p->need_zipf <= 5) ||
        !(p->member_zipf >= 0 && p->member_zipf <= 5))
        return rs_seterr(e, RS_EUSAGE, "Zipf exponents must lie in [0, 5]");
    if (p->days < 1 || p->days > 3650)
        return rs_seterr(e, RS_EUSAGE, "days must be 1..3650");
    if (!(p->receipts_per_customer >= 1 && p->receipts_per_customer <= 1e6) ||
        !(p->taste_prob >= 0 && p->taste_prob <= 1) || !(p->loyalty >= 0 && p->loyalty <= 1) ||
        !(p->staple_prob >= 0 && p->staple_prob <= 1))
        return rs_seterr(e, RS_EUSAGE, "customers: receipts per customer 1..1e6, "
                         "probabilities in [0, 1]");
    return RS_OK;
}

void rs_synth_defaults(rs_synth_params *p, int large)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->cities = large ? 20 : 5;
    p->departments = large ? 24 : 20;
    p->categories = large ? 1300 : 200;
    p->products = large ? 100000 : 5000;
    p->receipts = large ? 1000000 : 100000;
    p->assets_dir = NULL;
    p->mean_receipt_size = 8.0;
    p->max_receipt_size = 40;
    p->companion_prob = 0.6;
    p->grouped_share = 0.5;
    p->dup_prob = 0.025;
    p->category_zipf = 0.8;
    p->need_zipf = 0.8;
    p->member_zipf = 0.5;
    p->days = 90;
    p->receipts_per_customer = 6.0;
    p->taste_prob = 0.3;
    p->loyalty = 0.6;
    p->staple_prob = 0.8;
}

int rs_synth_run(const rs_synth_params *p, const char *out_dir, rs_synth_summary *sum,
                 rs_error *e)
{
    world_t w = {0};
    outfile files[4] = {{.name = "products.csv"},
                        {.name = "categories.csv"},
                        {.name = "receipts.csv"},
                        {.name = "truth.json"}};
    rs_synth_summary s = {0};
    int rc;
    const char *adir = p->assets_dir;
    if (!adir || !*adir)
        adir = getenv("RECOSCOPE_ASSETS");
    if (!adir || !*adir)
        adir = RS_ASSETS_DIR;
    if (!out_dir || !*out_dir)
        return rs_seterr(e, RS_EUSAGE, "no output directory");
    w.p = p;
    if ((rc = sy_assets_load(adir, &w.as, e)) || (rc = check_params(p, &w.as, e)))
        goto done;
    w.ncity = p->cities;
    w.ndept = p->departments;
    w.ncat = p->categories;
    w.nprod = (int)p->products;

    rng_t r;
    rng_init(&r, p->seed, STREAM_WORLD);
    if ((rc = sy_build_categories(&w, &r, e)) || (rc = sy_build_needs(&w, &r, e)) ||
        (rc = sy_build_complements(&w, &r, e)) || (rc = sy_build_cities(&w, &r, e)))
        goto done;
    sy_build_companions(&w, &r);
    if ((rc = sy_build_city_tables(&w, e)) || (rc = sy_build_customers(&w, e)))
        goto done;

    if ((rc = sy_mkdir_p(out_dir, e)) ||
        (rc = sy_write_catalogue(&w, &files[0], &files[1], e, out_dir)) ||
        (rc = sy_write_receipts(&w, &files[2], out_dir, &s, e)) ||
        (rc = sy_write_truth(&w, &files[3], out_dir, s.receipt_lines, e)))
        goto done;
    /* receipts.csv last: its presence means a complete world (cmd_demo relies on it) */
    static const int rename_order[4] = {0, 1, 3, 2};
    for (int k = 0; k < 4; k++) {
        int i = rename_order[k];
        if (rename(files[i].tmp, files[i].final) != 0) {
            rc = rs_seterr(e, RS_EINTERNAL, "cannot rename %s to %s: %s", files[i].tmp,
                           files[i].final, strerror(errno));
            goto done;
        }
        files[i].written = 0;
    }
    s.products = w.nprod;
    s.receipts = p->receipts;
    s.complementary_pairs = w.npairs;
    for (int i = 0; i < w.nneed; i++) {
        if (w.need[i].nm > 1) {
            s.substitute_groups++;
            s.grouped_products += w.need[i].nm;
        }
        s.local_products += w.need[i].local >= 0;
    }
    if (sum)
        *sum = s;
done:
    for (int i = 0; i < 4; i++)
        if (files[i].written)
            unlink(files[i].tmp);
    sy_world_free(&w);
    return rc;
}

int rs_synth_write(const rs_synth_params *p, const char *out_dir, rs_error *e)
{
    return rs_synth_run(p, out_dir, NULL, e);
}

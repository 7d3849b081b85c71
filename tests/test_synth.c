/* test_synth.c - the synthetic world: determinism, layout, and the planted structure
 * (substitute groups rarely share a receipt, complementary categories co-occur, city
 * tastes and local products) measured on the written files. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "synth.h"
#include "testlib.h"

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static int same_file(const char *d1, const char *d2, const char *name)
{
    size_t n1 = 0, n2 = 0;
    char *a = slurp(d1, name, &n1), *b = slurp(d2, name, &n2);
    int same = a && b && n1 == n2 && memcmp(a, b, n1) == 0;
    free(a);
    free(b);
    return same;
}

/* Splits one CSV record (no embedded line breaks in our files) in place; returns the
 * number of fields and advances *p past the line. */
static int csv_split(char **p, char **field, int max)
{
    char *s = *p, *out = s;
    int n = 0;
    if (!*s)
        return 0;
    field[n++] = out;
    while (*s && *s != '\n') {
        if (*s == '"') {
            s++;
            while (*s && !(*s == '"' && s[1] != '"')) {
                if (*s == '"')
                    s++;
                *out++ = *s++;
            }
            if (*s == '"')
                s++;
        } else if (*s == ',') {
            *out++ = '\0';
            s++;
            if (n < max)
                field[n++] = out;
        } else {
            *out++ = *s++;
        }
    }
    char *next = *s ? s + 1 : s;
    *out = '\0';
    *p = next;
    return n;
}

typedef struct {
    char *buf;
    int n;
    char **id, **cat;
} products_t;

static int find_str(char **v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return i;
    return -1;
}

/* "P000123" -> 122 (ids are dense and in file order). */
static int pidx(const char *id) { return atoi(id + 1) - 1; }

static rs_synth_params small_params(uint64_t seed)
{
    rs_synth_params p;
    rs_synth_defaults(&p, 0);
    p.seed = seed;
    p.cities = 4;
    p.categories = 100;
    p.products = 2000;
    p.receipts = 20000;
    return p;
}

static void test_determinism(const char *root)
{
    char d1[600], d2[600], d3[600];
    snprintf(d1, sizeof d1, "%s/a/nested", root);
    snprintf(d2, sizeof d2, "%s/b", root);
    snprintf(d3, sizeof d3, "%s/c", root);
    rs_error e = {0};
    rs_synth_params p = small_params(7);
    CHECK_EQ_INT(rs_synth_write(&p, d1, &e), RS_OK);
    CHECK_EQ_INT(rs_synth_write(&p, d2, &e), RS_OK);
    p.seed = 8;
    CHECK_EQ_INT(rs_synth_write(&p, d3, &e), RS_OK);
    const char *files[] = {"products.csv", "categories.csv", "receipts.csv", "truth.json"};
    for (int i = 0; i < 4; i++) {
        CHECK(same_file(d1, d2, files[i]));
        CHECK(!same_file(d1, d3, files[i]));
    }
    /* no temporary files left behind */
    char tmp[700];
    struct stat st;
    snprintf(tmp, sizeof tmp, "%s/.receipts.csv.tmp", d1);
    CHECK(stat(tmp, &st) != 0);

    /* the catalogue does not depend on the number of receipts */
    p.seed = 7;
    p.receipts = 500;
    snprintf(d3, sizeof d3, "%s/d", root);
    CHECK_EQ_INT(rs_synth_write(&p, d3, &e), RS_OK);
    CHECK(same_file(d1, d3, "products.csv"));
    CHECK(same_file(d1, d3, "categories.csv"));
}

static void test_errors(const char *root)
{
    char d[600];
    snprintf(d, sizeof d, "%s/err", root);
    rs_error e = {0};
    rs_synth_params p = small_params(1);
    p.categories = 100000;
    p.products = 300000;
    CHECK_EQ_INT(rs_synth_write(&p, d, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "categories") != NULL);
    p = small_params(1);
    p.products = 150;
    CHECK_EQ_INT(rs_synth_write(&p, d, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "--products") != NULL);
    p = small_params(1);
    p.cities = 1000;
    CHECK_EQ_INT(rs_synth_write(&p, d, &e), RS_EUSAGE);
    p = small_params(1);
    p.assets_dir = root; /* no names/ in there */
    CHECK_EQ_INT(rs_synth_write(&p, d, &e), RS_EDATA);
    CHECK(strstr(e.msg, "cities.txt") != NULL);
    struct stat st;
    char f[700];
    snprintf(f, sizeof f, "%s/products.csv", d);
    CHECK(stat(f, &st) != 0);
}

static void test_world(const char *root)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/world", root);
    rs_error e = {0};
    rs_synth_params p = small_params(42);
    rs_synth_summary sum;
    CHECK_EQ_INT(rs_synth_run(&p, dir, &sum, &e), RS_OK);
    CHECK_EQ_INT(sum.products, 2000);
    CHECK_EQ_INT(sum.receipts, 20000);

    /* products.csv */
    char *pbuf = slurp(dir, "products.csv", NULL), *cur = pbuf;
    CHECK(pbuf != NULL);
    if (!pbuf)
        return;
    char *f[8];
    CHECK_EQ_INT(csv_split(&cur, f, 8), 6);
    CHECK_STR(f[0], "product_id");
    CHECK_STR(f[5], "price");
    int np = 0;
    char **pid = calloc(2000, sizeof *pid), **pcat = calloc(2000, sizeof *pcat);
    int bad = 0;
    int nf;
    while ((nf = csv_split(&cur, f, 8)) > 0) {
        if (nf != 6 || np >= 2000) {
            bad++;
            continue;
        }
        if (pidx(f[0]) != np || strlen(f[1]) < 8 || atof(f[5]) <= 0)
            bad++;
        pid[np] = f[0];
        pcat[np] = f[2];
        np++;
    }
    CHECK_EQ_INT(np, 2000);
    CHECK_EQ_INT(bad, 0);

    /* categories.csv */
    char *cbuf = slurp(dir, "categories.csv", NULL);
    cur = cbuf;
    CHECK(cbuf != NULL);
    if (!cbuf)
        return;
    CHECK_EQ_INT(csv_split(&cur, f, 8), 2);
    CHECK_STR(f[0], "category");
    CHECK_STR(f[1], "department");
    int ncat = 0;
    char **cname = calloc(100, sizeof *cname);
    while ((nf = csv_split(&cur, f, 8)) > 0) {
        if (nf == 2 && ncat < 100)
            cname[ncat] = f[0];
        ncat++;
    }
    CHECK_EQ_INT(ncat, 100);
    int dupnames = 0;
    for (int i = 0; i < ncat && i < 100; i++)
        dupnames += find_str(cname, i, cname[i]) >= 0;
    CHECK_EQ_INT(dupnames, 0);
    int *pcati = calloc(2000, sizeof *pcati);
    int unknown_cat = 0;
    for (int i = 0; i < np; i++) {
        pcati[i] = find_str(cname, 100, pcat[i]);
        unknown_cat += pcati[i] < 0;
    }
    CHECK_EQ_INT(unknown_cat, 0);

    /* truth.json */
    char *tbuf = slurp(dir, "truth.json", NULL);
    cJSON *truth = tbuf ? cJSON_Parse(tbuf) : NULL;
    CHECK(truth != NULL);
    if (!truth)
        return;
    static const char *keys[] = {"seed", "sizes", "cities", "departments", "substitute_groups",
                                 "complementary_categories", "city_tastes", "local_products"};
    cJSON *it = truth->child;
    for (int i = 0; i < 8; i++, it = it ? it->next : NULL)
        CHECK_STR(it ? it->string : NULL, keys[i]);
    CHECK_EQ_INT(cJSON_GetObjectItem(truth, "seed")->valuedouble, 42);
    cJSON *sizes = cJSON_GetObjectItem(truth, "sizes");
    CHECK_EQ_INT(cJSON_GetObjectItem(sizes, "products")->valuedouble, 2000);
    CHECK_EQ_INT(cJSON_GetObjectItem(sizes, "receipts")->valuedouble, 20000);
    cJSON *cities = cJSON_GetObjectItem(truth, "cities");
    int ncity = cJSON_GetArraySize(cities);
    CHECK_EQ_INT(ncity, 4);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(truth, "departments")), 20);

    /* groups: 2..6 existing products of one category, each product in one group */
    int *group = malloc(2000 * sizeof *group);
    for (int i = 0; i < 2000; i++)
        group[i] = -1;
    cJSON *groups = cJSON_GetObjectItem(truth, "substitute_groups");
    int ng = cJSON_GetArraySize(groups), badgroup = 0, grouped = 0;
    CHECK(ng > 100);
    for (int g = 0; g < ng; g++) {
        cJSON *gr = cJSON_GetArrayItem(groups, g), *m;
        int n = cJSON_GetArraySize(gr), cat = -1;
        if (n < 2 || n > 6)
            badgroup++;
        cJSON_ArrayForEach(m, gr)
        {
            int i = cJSON_IsString(m) ? pidx(m->valuestring) : -1;
            if (i < 0 || i >= np || strcmp(pid[i], m->valuestring) != 0 || group[i] >= 0) {
                badgroup++;
                continue;
            }
            group[i] = g;
            grouped++;
            if (cat < 0)
                cat = pcati[i];
            else if (cat != pcati[i])
                badgroup++;
        }
    }
    CHECK_EQ_INT(badgroup, 0);
    CHECK(grouped > 2000 * 4 / 10 && grouped < 2000 * 6 / 10);

    /* complementary pairs refer to categories; each category has 1..4 partners */
    cJSON *pairs = cJSON_GetObjectItem(truth, "complementary_categories"), *pr;
    int npairs = cJSON_GetArraySize(pairs), badpair = 0;
    int (*pc)[2] = calloc((size_t)npairs + 1, sizeof *pc);
    int *deg = calloc(100, sizeof *deg);
    int k = 0;
    cJSON_ArrayForEach(pr, pairs)
    {
        int a = find_str(cname, 100, cJSON_GetArrayItem(pr, 0)->valuestring);
        int b = find_str(cname, 100, cJSON_GetArrayItem(pr, 1)->valuestring);
        if (a < 0 || b < 0 || a == b) {
            badpair++;
            continue;
        }
        pc[k][0] = a;
        pc[k][1] = b;
        deg[a]++;
        deg[b]++;
        k++;
    }
    CHECK_EQ_INT(badpair, 0);
    int baddeg = 0;
    for (int c = 0; c < 100; c++)
        baddeg += deg[c] < 1 || deg[c] > 4;
    CHECK_EQ_INT(baddeg, 0);

    /* local products: product -> city */
    int *local = malloc(2000 * sizeof *local);
    for (int i = 0; i < 2000; i++)
        local[i] = -1;
    cJSON *lp = cJSON_GetObjectItem(truth, "local_products");
    int nlocal = 0;
    for (int c = 0; c < ncity; c++) {
        const char *cn = cJSON_GetArrayItem(cities, c)->valuestring;
        cJSON *arr = cJSON_GetObjectItem(lp, cn), *m;
        CHECK(cJSON_GetArraySize(arr) >= 1);
        cJSON_ArrayForEach(m, arr)
        {
            int i = pidx(m->valuestring);
            if (i >= 0 && i < 2000) {
                local[i] = c;
                nlocal++;
                CHECK(group[i] < 0);
            }
        }
    }
    /* tastes: category index per city */
    cJSON *tastes = cJSON_GetObjectItem(truth, "city_tastes");
    double *mult = calloc((size_t)ncity * 100, sizeof *mult);
    for (int c = 0; c < ncity; c++) {
        cJSON *t = cJSON_GetObjectItem(tastes, cJSON_GetArrayItem(cities, c)->valuestring), *m;
        CHECK(cJSON_GetArraySize(t) >= 3);
        cJSON_ArrayForEach(m, t)
        {
            int ci = find_str(cname, 100, m->string);
            CHECK(ci >= 0 && m->valuedouble > 1.0);
            if (ci >= 0)
                mult[c * 100 + ci] = m->valuedouble;
        }
    }

    /* receipts.csv: one pass, one receipt at a time */
    char *rbuf = slurp(dir, "receipts.csv", NULL);
    cur = rbuf;
    CHECK(rbuf != NULL);
    if (!rbuf)
        return;
    CHECK_EQ_INT(csv_split(&cur, f, 8), 6);
    CHECK_STR(f[0], "receipt_id");
    CHECK_STR(f[2], "city");
    CHECK_STR(f[5], "customer_id");
    long *catn = calloc(100, sizeof *catn), *pairn = calloc((size_t)npairs + 1, sizeof *pairn);
    long *catcity = calloc((size_t)ncity * 100, sizeof *catcity), *cityn = calloc((size_t)ncity, sizeof *cityn);
    long *co = calloc(100 * 100, sizeof *co);
    char *incat = calloc(100, 1);
    int items[64], nitems = 0, rcity = -1;
    long nreceipts = 0, nlines = 0, with_member = 0, with_two = 0, local_wrong = 0, local_seen = 0;
    long badline = 0, unsorted = 0;
    char prev_rid[32] = "", prev_ts[32] = "";
    for (;;) {
        nf = csv_split(&cur, f, 8);
        int newr = nf == 0 || strcmp(f[0], prev_rid) != 0;
        if (newr && nitems > 0) {
            /* close the previous receipt */
            nreceipts++;
            memset(incat, 0, 100);
            for (int i = 0; i < nitems; i++)
                incat[pcati[items[i]]] = 1;
            for (int c = 0; c < 100; c++)
                if (incat[c]) {
                    catn[c]++;
                    catcity[rcity * 100 + c]++;
                }
            cityn[rcity]++;
            for (int q = 0; q < k; q++)
                pairn[q] += incat[pc[q][0]] && incat[pc[q][1]];
            for (int a = 0; a < 100; a++)
                for (int b = a + 1; incat[a] && b < 100; b++)
                    co[a * 100 + b] += incat[b];
            int any = 0, two = 0;
            for (int i = 0; i < nitems; i++) {
                int g = group[items[i]];
                if (g < 0)
                    continue;
                any = 1;
                for (int j = 0; j < i; j++)
                    if (group[items[j]] == g)
                        two = 1;
            }
            with_member += any;
            with_two += two;
            nitems = 0;
        }
        if (nf == 0)
            break;
        if (nf != 6) {
            badline++;
            continue;
        }
        nlines++;
        if (newr) {
            if (strcmp(f[4], prev_ts) < 0)
                unsorted++;
            snprintf(prev_rid, sizeof prev_rid, "%s", f[0]);
            snprintf(prev_ts, sizeof prev_ts, "%s", f[4]);
            rcity = -1;
            for (int c = 0; c < ncity; c++)
                if (strcmp(f[2], cJSON_GetArrayItem(cities, c)->valuestring) == 0)
                    rcity = c;
            if (rcity < 0) {
                badline++;
                continue;
            }
        }
        int i = pidx(f[1]);
        if (i < 0 || i >= np || strlen(f[4]) != 19 || atoi(f[3]) < 1 || f[5][0] != 'C') {
            badline++;
            continue;
        }
        if (local[i] >= 0) {
            local_seen++;
            local_wrong += local[i] != rcity;
        }
        if (nitems < 64)
            items[nitems++] = i;
    }
    CHECK_EQ_INT(badline, 0);
    CHECK_EQ_INT(unsorted, 0);
    CHECK_EQ_INT(nreceipts, 20000);
    CHECK_EQ_INT(cJSON_GetObjectItem(sizes, "receipt_lines")->valuedouble, nlines);
    double mean = (double)nlines / (double)nreceipts;
    printf("receipts %ld, lines %ld, mean size %.2f\n", nreceipts, nlines, mean);
    CHECK(mean >= 6.0 && mean <= 10.0);

    /* substitutes rarely share a receipt */
    double dup = (double)with_two / (double)with_member;
    printf("receipts with a group member %ld, with two of one group %ld (%.3f%%)\n",
           with_member, with_two, 100.0 * dup);
    CHECK(with_member > 10000);
    CHECK(dup <= 0.02);
    CHECK(with_two > 0); /* "rarely", not never */

    /* local products: only in their city, and sold there */
    printf("local products %d, their lines %ld, outside their city %ld\n", nlocal, local_seen,
           local_wrong);
    CHECK(nlocal >= 4 * 3);
    CHECK(local_seen > 0);
    CHECK_EQ_INT(local_wrong, 0);

    /* complementary pairs co-occur far above chance; other pairs do not */
    int supported = 0, high = 0;
    double lift_sum = 0;
    for (int q = 0; q < k; q++) {
        double expect = (double)catn[pc[q][0]] * (double)catn[pc[q][1]] / (double)nreceipts;
        if (expect < 5)
            continue;
        double lift = (double)pairn[q] / expect;
        supported++;
        high += lift > 2.0;
        lift_sum += lift;
    }
    int other_pairs = 0, other_high = 0;
    double other_sum = 0;
    for (int a = 0; a < 100; a++)
        for (int b = a + 1; b < 100; b++) {
            int is_pair = 0;
            for (int q = 0; q < k; q++)
                is_pair |= (pc[q][0] == a && pc[q][1] == b) || (pc[q][0] == b && pc[q][1] == a);
            double expect = (double)catn[a] * (double)catn[b] / (double)nreceipts;
            if (is_pair || expect < 5)
                continue;
            double lift = (double)co[a * 100 + b] / expect;
            other_pairs++;
            other_high += lift > 2.0;
            other_sum += lift;
        }
    printf("complementary pairs %d, with support %d, lift > 2: %d, mean lift %.2f; "
           "other pairs %d, lift > 2: %d, mean lift %.2f\n",
           k, supported, high, supported ? lift_sum / supported : 0, other_pairs, other_high,
           other_pairs ? other_sum / other_pairs : 0);
    CHECK(supported >= k / 2);
    CHECK(high >= supported * 9 / 10);
    CHECK(supported > 0 && lift_sum / supported > 3.0);
    CHECK(other_pairs > 1000 && other_sum / other_pairs < 1.5);
    CHECK(other_high <= other_pairs / 10);

    /* city tastes: a favourite category's share in its city beats its share elsewhere */
    int taste_total = 0, taste_up = 0;
    for (int c = 0; c < ncity; c++)
        for (int ci = 0; ci < 100; ci++) {
            if (mult[c * 100 + ci] <= 1.0)
                continue;
            double here = (double)catcity[c * 100 + ci] / (double)cityn[c];
            long other_n = nreceipts - cityn[c];
            long other = catn[ci] - catcity[c * 100 + ci];
            double there = (double)other / (double)other_n;
            taste_total++;
            taste_up += here > 1.3 * there;
        }
    printf("city taste categories %d, share clearly up in their city %d\n", taste_total,
           taste_up);
    CHECK(taste_up >= taste_total * 8 / 10);

    free(catn);
    free(pairn);
    free(catcity);
    free(cityn);
    free(co);
    free(incat);
    free(rbuf);
    free(mult);
    free(local);
    free(pc);
    free(deg);
    free(group);
    cJSON_Delete(truth);
    free(tbuf);
    free(pcati);
    free(cname);
    free(cbuf);
    free(pid);
    free(pcat);
    free(pbuf);
}

int main(void)
{
    const char *root = test_tmpdir();
    test_determinism(root);
    test_errors(root);
    test_world(root);
    return test_summary();
}

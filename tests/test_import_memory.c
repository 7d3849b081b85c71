/* test_import_memory.c - the importer's memory does not grow with the size of the CSV
 * (issue 6, "a 2 GB CSV imports in bounded memory").  Imports a generated 128 MiB
 * receipts file while a thread samples /proc/self/status, and checks:
 *  - the file's mapped pages do not stay resident: peak RssFile grows by less than
 *    40 MiB over the baseline (before the fix it grew by the whole file, 128 MiB), since
 *    the split pass, the hasher and the writer drop the pages behind them;
 *  - (without ASan, whose shadow memory and quarantine dominate) peak anonymous memory
 *    grows by less than 192 MiB: SQLite's 64 MiB cache, the 32 MiB receipt filter, the
 *    chunks in flight;
 *  - the import is complete (receipts and lines counted).
 * The full-size figures (2.4 GB CSV: 243 MiB peak RSS) are in docs/BENCHMARKS.md. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "import.h"
#include "store.h"
#include "testlib.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define FILE_MIB 128

/* kB of the two RSS parts, or -1 when /proc is not there */
static void rss_now(long *file_kb, long *anon_kb)
{
    *file_kb = *anon_kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "RssFile:", 8) == 0)
            *file_kb = atol(line + 8);
        else if (strncmp(line, "RssAnon:", 8) == 0)
            *anon_kb = atol(line + 8);
    }
    fclose(f);
}

typedef struct sampler {
    volatile int stop;
    long max_file, max_anon;
    int samples;
} sampler;

static void *sample(void *arg)
{
    sampler *s = arg;
    while (!s->stop) {
        long fk, ak;
        rss_now(&fk, &ak);
        if (fk > s->max_file)
            s->max_file = fk;
        if (ak > s->max_anon)
            s->max_anon = ak;
        s->samples++;
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
    }
    return NULL;
}

int main(void)
{
    long f0, a0;
    rss_now(&f0, &a0);
    if (f0 < 0) {
        printf("SKIP: no /proc/self/status RssFile\n");
        return TEST_SKIP;
    }
    const char *dir = test_tmpdir();
    char prods[512], recs[512], db[512];
    snprintf(prods, sizeof prods, "%s/products.csv", dir);
    snprintf(recs, sizeof recs, "%s/receipts.csv", dir);
    snprintf(db, sizeof db, "%s/m.db", dir);

    FILE *f = fopen(prods, "w");
    CHECK(f != NULL);
    if (!f)
        return test_summary();
    fprintf(f, "product_id,name,category\n");
    for (int i = 0; i < 1000; i++)
        fprintf(f, "P%04d,Product %d,Cat %d\n", i, i, i % 10);
    fclose(f);
    /* receipts of 8 lines, ~56 bytes a line, until the file holds FILE_MIB MiB */
    f = fopen(recs, "w");
    CHECK(f != NULL);
    if (!f)
        return test_summary();
    fprintf(f, "receipt_id,product_id,city,quantity,timestamp,customer_id\n");
    long nrec = 0, nline = 0;
    unsigned x = 12345;
    while (ftell(f) < (long)FILE_MIB << 20) {
        nrec++;
        for (int k = 0; k < 8; k++) {
            x = x * 1103515245u + 12345u;
            int p = (int)((x >> 8) % 1000);
            /* product = k mod 8: no (receipt, product) repeats, every line counts */
            fprintf(f, "R%09ld,P%04d,City%ld,1,2025-03-%02ld 07:00:25,C%06ld\n", nrec,
                    (p / 8) * 8 + k, nrec % 5, 1 + nrec % 28, nrec % 50000);
            nline++;
        }
    }
    long size = ftell(f);
    fclose(f);

    rs_store *s = NULL;
    rs_error e = {0};
    CHECK(rs_store_open(db, RS_STORE_CREATE, &s, &e) == RS_OK);
    if (!s)
        return test_summary();
    rs_import_opts o;
    rs_import_opts_init(&o);
    const char *inputs[] = {recs};
    o.products = prods;
    o.inputs = inputs;
    o.ninputs = 1;
    o.threads = 2;
    o.chunk_bytes = (size_t)1 << 20;
    rs_import_report rep;

    rss_now(&f0, &a0);
    sampler sm = {0, f0, a0, 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, sample, &sm) == 0);
    int rc = rs_import_run(s, &o, &rep, &e);
    sm.stop = 1;
    pthread_join(th, NULL);
    if (rc)
        printf("import: %s\n", e.msg);
    CHECK_EQ_INT(rc, RS_OK);
    CHECK_EQ_INT(rep.receipts_added, nrec);
    CHECK_EQ_INT(rep.lines, nline);
    long dfile = (sm.max_file - f0) >> 10, danon = (sm.max_anon - a0) >> 10;
    printf("%ld MiB CSV, %ld receipts, %ld lines, %.1f s, %d samples: peak RssFile +%ld MiB, "
           "peak RssAnon +%ld MiB%s\n",
           size >> 20, nrec, nline, rep.seconds, sm.samples, dfile, danon,
           UNDER_ASAN ? " (ASan: anonymous memory not checked)" : "");
    CHECK(sm.samples >= 3);
    CHECK(dfile < 40);
    if (!UNDER_ASAN)
        CHECK(danon < 192);
    rs_import_report_free(&rep);
    rs_store_close(s);
    return test_summary();
}

/* sgns_time.c - times rs_sgns_train alone on the training split of a database's
 * receipts (all cities) and writes the input and output vectors as word2vec text, so
 * bench/train_vs_gensim can time big corpora without `recoscope train`'s validation
 * scoring.  Built by bench/train_vs_gensim against the build's core library.
 *
 * usage: sgns_time DB OUT_PREFIX dim epochs negative ns_exponent subsample lr min_count
 *                  threads
 * prints "seconds=S rows=R"; writes OUT_PREFIX.in.txt and OUT_PREFIX.out.txt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corpus.h"
#include "sgns.h"
#include "store.h"
#include "w2v_format.h"

int main(int argc, char **argv)
{
    if (argc != 11) {
        fprintf(stderr, "usage: sgns_time DB OUT_PREFIX dim epochs negative ns_exponent "
                        "subsample lr min_count threads\n");
        return 1;
    }
    rs_error e = {0};
    rs_store *s = NULL;
    rs_corpus *all = NULL, *train = NULL;
    rs_embedding *m = NULL;
    char **words = NULL;
    int rc = 1;
    rs_sgns_params p;
    rs_sgns_defaults(&p);
    p.dim = atoi(argv[3]);
    p.epochs = atoi(argv[4]);
    p.negative = atoi(argv[5]);
    p.ns_exponent = atof(argv[6]);
    p.subsample = atof(argv[7]);
    p.lr = atof(argv[8]);
    p.min_count = atoi(argv[9]);
    p.threads = atoi(argv[10]);
    p.window = 0;
    if (rs_store_open(argv[1], RS_STORE_READONLY, &s, &e) || rs_corpus_load(s, 0, &all, &e) ||
        rs_corpus_split(all, RS_SPLIT_TRAIN, &train, &e))
        goto done;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (rs_sgns_train(train, &p, NULL, NULL, &m, &e))
        goto done;
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("seconds=%.3f rows=%d\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9,
           m->rows);
    /* words: the products' external ids */
    words = calloc((size_t)m->rows, sizeof *words);
    sqlite3_stmt *st = NULL;
    if (!words || sqlite3_prepare_v2(rs_store_db(s), "SELECT ext_id FROM products WHERE id = ?",
                                     -1, &st, NULL) != SQLITE_OK)
        goto done;
    for (int32_t r = 0; r < m->rows; r++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)m->row_item[r] + 1);
        if (sqlite3_step(st) != SQLITE_ROW || !(words[r] = strdup((const char *)sqlite3_column_text(st, 0)))) {
            sqlite3_finalize(st);
            goto done;
        }
    }
    sqlite3_finalize(st);
    char path[4096];
    snprintf(path, sizeof path, "%s.in.txt", argv[2]);
    if (rs_w2v_write(path, RS_W2V_TEXT, m->rows, m->dim, (const char *const *)words, m->in, &e))
        goto done;
    snprintf(path, sizeof path, "%s.out.txt", argv[2]);
    if (rs_w2v_write(path, RS_W2V_TEXT, m->rows, m->dim, (const char *const *)words, m->out, &e))
        goto done;
    rc = 0;
done:
    if (rc && e.msg[0])
        fprintf(stderr, "sgns_time: %s\n", e.msg);
    if (words)
        for (int32_t r = 0; m && r < m->rows; r++)
            free(words[r]);
    free(words);
    rs_embedding_free(m);
    rs_corpus_free(train);
    rs_corpus_free(all);
    rs_store_close(s);
    return rc;
}

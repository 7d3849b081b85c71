/* recommend.h (cli) - what the files of `recoscope recommend` share:
 *   cmd_recommend.c    options, the query, the single answer (table or JSON)
 *   recommend_out.c    the table (the JSON object is core's rs_rec_result_json)
 *   recommend_batch.c  the batch protocol (one context a line in, one JSON line out)
 */
#ifndef RS_CLI_RECOMMEND_H
#define RS_CLI_RECOMMEND_H

#include "../core/custrec.h"
#include "../core/jsonw.h"
#include "../core/rec_json.h"
#include "../core/recommend.h"

/* The answer as the table of `recommend`, on stdout. */
void rec_print_table(const rs_recommender *r, const rs_rec_result *res, unsigned kinds);

/* Answers every line of path ("-" = stdin) with q0's options on `threads` threads,
 * one JSON line out per line in, in order.  Lines {"customer": "ID"} are answered by
 * recommend_customer.c (the customer server opened on the first of them, on store s
 * and r's city).  Returns the exit code (messages printed). */
int rec_run_batch(rs_store *s, const rs_recommender *r, const rs_rec_query *q0,
                  const char *path, int threads);

/* ---- recommend_customer.c: one customer (core/custrec.h) ---- */

/* The answer as one JSON object (the history's receipts too when history). */
void rec_customer_json(rs_jsonw *b, const rs_recommender *r, const rs_custrec_answer *a,
                       int history);
/* The answer as the table of `recommend --customer`, on stdout. */
void rec_customer_table(const rs_recommender *r, const rs_custrec_answer *a);
/* Whether a batch line is an object (a customer line) rather than a context. */
int rec_is_customer_line(const char *line);
/* A customer line {"customer": "ID"} answered as one JSON object into b (an "error"
 * field for a bad line or an unknown customer; cr NULL: cr_error says why). */
void rec_customer_line_json(const rs_custrec *cr, const char *cr_error,
                            const rs_recommender *r, const char *line, int k, rs_jsonw *b);

#endif

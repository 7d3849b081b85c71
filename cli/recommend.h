/* recommend.h (cli) - what the files of `recoscope recommend` share:
 *   cmd_recommend.c    options, the query, the single answer (table or JSON)
 *   recommend_out.c    the table (the JSON object is core's rs_rec_result_json)
 *   recommend_batch.c  the batch protocol (one context a line in, one JSON line out)
 */
#ifndef RS_CLI_RECOMMEND_H
#define RS_CLI_RECOMMEND_H

#include "../core/jsonw.h"
#include "../core/rec_json.h"
#include "../core/recommend.h"

/* The answer as the table of `recommend`, on stdout. */
void rec_print_table(const rs_recommender *r, const rs_rec_result *res, unsigned kinds);

/* Answers every line of path ("-" = stdin) with q0's options on `threads` threads,
 * one JSON line out per line in, in order.  Returns the exit code (messages printed). */
int rec_run_batch(const rs_recommender *r, const rs_rec_query *q0, const char *path,
                  int threads);

#endif

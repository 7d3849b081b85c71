/* search.h - incremental product search for the TUI, in memory.
 *
 * The recommender's rs_rec_search (FTS5 prefix query, then LIKE) costs 40-150 ms per
 * keystroke on 100k products when the prefix is short (bm25 over every hit), too slow
 * to run on every typed character.  This index keeps the catalogue's names once,
 * ASCII-lowercased and concatenated, and answers the same question within a frame:
 * every word of the query must occur in the name; names where every word starts a
 * word (what the FTS5 prefix query finds) come first, then the other substring
 * matches (the LIKE fallback); inside each group the most popular in the city first,
 * then the lower index.  The scan walks names in that order and stops once the list
 * is full of word-start matches.
 */
#ifndef RS_TUI_SEARCH_H
#define RS_TUI_SEARCH_H

#include <stdint.h>

#include "recommend.h"

typedef struct tui_search tui_search;

/* Builds the index over the recommender's catalogue (names are copied). NULL on OOM. */
tui_search *tui_search_new(const rs_recommender *r);
void tui_search_free(tui_search *s);

/* Up to max matches of text into out, ranked as above; returns how many.  order lists
 * the product indices most popular first (tui_search_order), or NULL: index order. */
int tui_search_run(const tui_search *s, const char *text, const int32_t *order, int32_t *out,
                   int max);
/* Product indices sorted by pop descending, ties by index (malloc-ed; NULL on OOM). */
int32_t *tui_search_order(const int64_t *pop, int32_t n);

#endif

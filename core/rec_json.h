/* rec_json.h - a recommendation result as the `recommend --json` object.
 *
 * {"city": C, "query": [{id, name, category, popularity, percentile, in_model}],
 *  "models": {kind: {city, fallback, model_id, path} | {"error": why}, complements:
 *  {"product": {...}, "category": {...}}},
 *  "<kind>": [{id, name, category (parent for categories), score, popularity,
 *  percentile, complements also category_weight, importance, transformed, share,
 *  slots, product_score, copurchase, lift}], ...,
 *  "error": E}
 * "city", "query" and "models" only with_models; a batch line (not with_models) has
 * the lists and "fallback": {kind: true when a fallback answered it (the all-cities
 * model for a city query, popularity for a context the completion scorer knew nothing
 * of), ...}.  One list per kind of `kinds` (RS_REC_BIT mask), in kind order; "error"
 * only when error is not NULL.  "fallback" in "models" also covers the popularity
 * fallback of completion.  Used by `recommend --json`, `recommend --batch` and `serve`.
 */
#ifndef RS_REC_JSON_H
#define RS_REC_JSON_H

#include "jsonw.h"
#include "recommend.h"

void rs_rec_result_json(rs_jsonw *b, const rs_recommender *r, const rs_rec_result *res,
                        unsigned kinds, int with_models, const char *error);

#endif

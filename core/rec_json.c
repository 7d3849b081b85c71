/* rec_json.c - a recommendation result as the `recommend --json` object (rec_json.h). */
#include "rec_json.h"

#include <stdint.h>

static void json_row(rs_jsonw *b, rs_rec_kind kind, const rs_rec_row *r)
{
    rs_jsonw_puts(b, "{\"id\":");
    rs_jsonw_str(b, r->ext_id); /* a category row: the category's external id */
    rs_jsonw_puts(b, ",\"name\":");
    rs_jsonw_str(b, r->name);
    rs_jsonw_puts(b, kind == RS_REC_CATEGORIES ? ",\"parent\":" : ",\"category\":");
    rs_jsonw_str(b, r->category);
    rs_jsonw_puts(b, ",\"score\":");
    rs_jsonw_num(b, r->score);
    rs_jsonw_puts(b, ",\"popularity\":");
    rs_jsonw_int(b, (long long)r->popularity);
    rs_jsonw_puts(b, ",\"percentile\":");
    rs_jsonw_num(b, r->percentile);
    if (kind == RS_REC_COMPLEMENTS) {
        rs_jsonw_puts(b, ",\"category_weight\":");
        rs_jsonw_num(b, r->cat_weight);
        rs_jsonw_puts(b, ",\"importance\":");
        rs_jsonw_num(b, r->cat_importance);
        rs_jsonw_puts(b, ",\"transformed\":");
        rs_jsonw_num(b, r->cat_transformed);
        rs_jsonw_puts(b, ",\"share\":");
        rs_jsonw_num(b, r->cat_share);
        rs_jsonw_puts(b, ",\"slots\":");
        rs_jsonw_int(b, r->cat_slots);
        rs_jsonw_puts(b, ",\"product_score\":");
        rs_jsonw_num(b, r->score);
        if (r->copurchase >= 0) {
            rs_jsonw_puts(b, ",\"copurchase\":");
            rs_jsonw_int(b, (long long)r->copurchase);
            rs_jsonw_puts(b, ",\"lift\":");
            rs_jsonw_num(b, r->lift);
        }
    } else if (kind == RS_REC_SYNONYMS && r->copurchase >= 0) {
        rs_jsonw_puts(b, ",\"copurchase\":");
        rs_jsonw_int(b, (long long)r->copurchase);
        rs_jsonw_puts(b, ",\"lift\":");
        rs_jsonw_num(b, r->lift);
        if (r->demoted)
            rs_jsonw_puts(b, ",\"demoted\":true");
    }
    rs_jsonw_puts(b, "}");
}

static void json_list(rs_jsonw *b, rs_rec_kind kind, const rs_rec_list *l)
{
    rs_jsonw_put(b, "\"", 1);
    rs_jsonw_puts(b, rs_rec_kind_name(kind));
    rs_jsonw_puts(b, "\":[");
    for (int i = 0; i < l->n; i++) {
        if (i)
            rs_jsonw_put(b, ",", 1);
        json_row(b, kind, &l->rows[i]);
    }
    rs_jsonw_put(b, "]", 1);
}

/* Whether a fallback answered list l: a model of all cities for a city query (for
 * complements: either model), or popularity for a context the completion scorer knew
 * nothing of.  A list that could not answer is no fallback. */
static int list_fallback(const rs_recommender *r, const rs_rec_list *l, rs_rec_kind kind)
{
    if (l->status != 0)
        return 0;
    return l->model_city != rs_rec_city(r) || l->popularity_fallback ||
           (kind == RS_REC_COMPLEMENTS && l->model2_city != rs_rec_city(r));
}

static void json_model(rs_jsonw *b, const rs_recommender *r, const rs_rec_list *l,
                       int second)
{
    int64_t city = second ? l->model2_city : l->model_city;
    const char *path = second ? l->model2_path : l->model_path;
    int fallback = city != rs_rec_city(r) || (!second && l->popularity_fallback);
    rs_jsonw_puts(b, "{\"city\":");
    rs_jsonw_str(b, city == 0 ? "all" : rs_rec_city_name(r));
    rs_jsonw_printf(b, ",\"fallback\":%s,\"model_id\":%lld,\"path\":",
                    fallback ? "true" : "false",
                    (long long)(second ? l->model2_id : l->model_id));
    rs_jsonw_str(b, path);
    rs_jsonw_puts(b, "}");
}

void rs_rec_result_json(rs_jsonw *b, const rs_recommender *r, const rs_rec_result *res,
                        unsigned kinds, int with_models, const char *error)
{
    rs_jsonw_puts(b, "{");
    if (with_models) {
        rs_jsonw_puts(b, "\"city\":");
        rs_jsonw_str(b, rs_rec_city_name(r));
        rs_jsonw_puts(b, ",\"query\":[");
        for (int i = 0; i < res->n_query; i++) {
            rs_rec_product p;
            if (rs_rec_product_info(r, res->query[i], &p, NULL))
                continue;
            if (i)
                rs_jsonw_put(b, ",", 1);
            rs_jsonw_puts(b, "{\"id\":");
            rs_jsonw_str(b, p.ext_id);
            rs_jsonw_puts(b, ",\"name\":");
            rs_jsonw_str(b, p.name);
            rs_jsonw_puts(b, ",\"category\":");
            rs_jsonw_str(b, p.category);
            rs_jsonw_printf(b, ",\"popularity\":%lld,\"percentile\":", (long long)p.popularity);
            rs_jsonw_num(b, p.percentile);
            rs_jsonw_printf(b, ",\"in_model\":%s}", p.in_product_model ? "true" : "false");
        }
        rs_jsonw_puts(b, "],\"models\":{");
        int first = 1;
        for (int k = 0; k < RS_REC_NKINDS; k++) {
            if (!(kinds & RS_REC_BIT(k)))
                continue;
            const rs_rec_list *l = &res->lists[k];
            if (!first)
                rs_jsonw_put(b, ",", 1);
            first = 0;
            rs_jsonw_printf(b, "\"%s\":", rs_rec_kind_name((rs_rec_kind)k));
            if (l->status) {
                rs_jsonw_puts(b, "{\"error\":");
                rs_jsonw_str(b, l->message);
                rs_jsonw_puts(b, "}");
            } else if (k == RS_REC_COMPLEMENTS) {
                rs_jsonw_puts(b, "{\"product\":");
                json_model(b, r, l, 0);
                rs_jsonw_puts(b, ",\"category\":");
                json_model(b, r, l, 1);
                rs_jsonw_puts(b, "}");
            } else {
                json_model(b, r, l, 0);
            }
        }
        rs_jsonw_puts(b, "},");
    }
    int first = 1;
    for (int k = 0; k < RS_REC_NKINDS; k++) {
        if (!(kinds & RS_REC_BIT(k)))
            continue;
        if (!first)
            rs_jsonw_put(b, ",", 1);
        first = 0;
        json_list(b, (rs_rec_kind)k, &res->lists[k]);
    }
    if (!with_models) {
        /* a batch line has no "models": which lists a fallback answered */
        rs_jsonw_puts(b, ",\"fallback\":{");
        first = 1;
        for (int k = 0; k < RS_REC_NKINDS; k++) {
            if (!(kinds & RS_REC_BIT(k)))
                continue;
            rs_jsonw_printf(b, "%s\"%s\":%s", first ? "" : ",", rs_rec_kind_name((rs_rec_kind)k),
                            list_fallback(r, &res->lists[k], (rs_rec_kind)k) ? "true" : "false");
            first = 0;
        }
        rs_jsonw_puts(b, "}");
    }
    if (error) {
        rs_jsonw_puts(b, ",\"error\":");
        rs_jsonw_str(b, error);
    }
    rs_jsonw_puts(b, "}");
}

/* cmd_models.c - `recoscope models`: the model history (list with validation and
 * held-out scores, activate an older model, prune).  Parsing and printing only: the
 * registry is core/model_history.c. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/kinds.h"
#include "../core/model.h"
#include "../core/sanitize.h"
#include "../core/store.h"
#include "cli.h"
#include "opt.h"

static const char USAGE[] =
    "usage: recoscope models [--city NAME] [--kind KIND] [--json]\n"
    "       recoscope models activate ID\n"
    "       recoscope models prune [--keep N] [--city NAME] [--kind KIND] [--dry-run]\n"
    "\n"
    "Lists every registered model, newest first: the active one of each city, kind and\n"
    "split is marked *, with its validation scores (the part `train` selected it on)\n"
    "and its held-out scores (`recoscope eval`; \"stale\" when the evaluation was made\n"
    "while this model served and it no longer does).\n"
    "\n"
    "  --city NAME   only this city's models (\"all\" = the all-cities models)\n"
    "  --kind KIND   only this kind (product, category, als, ease)\n"
    "  --json        one JSON array, every field and the metrics in full\n"
    "\n"
    "activate ID     makes model ID the active one of its city, kind and split again,\n"
    "                after checking its file loads\n"
    "prune           removes all but the N newest models of each city, kind and split\n"
    "                (default 3), never the active one: registry rows, files and\n"
    "                sidecars (files outside the models directory are left alone)\n"
    "  --keep N      how many to keep (1 or more)\n"
    "  --dry-run     say what would be removed, remove nothing\n";

enum { OPT_CITY = 1, OPT_KIND, OPT_JSON, OPT_KEEP, OPT_DRY_RUN };

static const cli_opt OPTS[] = {
    {"city", 0, CLI_ARG, OPT_CITY},
    {"kind", 0, CLI_ARG, OPT_KIND},
    {"json", 0, CLI_FLAG, OPT_JSON},
    {"keep", 0, CLI_ARG, OPT_KEEP},
    {"dry-run", 0, CLI_FLAG, OPT_DRY_RUN},
    {NULL, 0, 0, 0},
};

typedef struct models_args {
    const char *action; /* NULL (list), "activate", "prune" */
    const char *city;   /* NULL: every city */
    const char *kind;
    int json, dry_run;
    int64_t keep, id;
} models_args;

static int parse_args(int argc, char **argv, models_args *a, int *help)
{
    const char *names[8] = {NULL};
    int n_kinds = RS_N_KINDS < 7 ? RS_N_KINDS : 7, k, id;
    for (int i = 0; i < n_kinds; i++)
        names[i] = RS_KINDS[i].name;
    cli_parser p;
    *a = (models_args){.keep = 3};
    cli_opt_init(&p, "models", argc, argv, OPTS);
    while ((id = cli_opt_next(&p)) > 0) {
        switch (id) {
        case OPT_CITY: a->city = p.value; break;
        case OPT_KIND:
            if (cli_opt_choice(&p, names, &k))
                return RS_EUSAGE;
            a->kind = names[k];
            break;
        case OPT_JSON: a->json = 1; break;
        case OPT_KEEP:
            if (cli_opt_int(&p, 1, 1000000, &a->keep))
                return RS_EUSAGE;
            break;
        case OPT_DRY_RUN: a->dry_run = 1; break;
        case CLI_POSITIONAL:
            if (!a->action && (!strcmp(p.value, "activate") || !strcmp(p.value, "prune")))
                a->action = !strcmp(p.value, "activate") ? "activate" : "prune";
            else if (a->action && !strcmp(a->action, "activate") && !a->id) {
                if (cli_opt_int(&p, 1, INT64_MAX, &a->id))
                    return RS_EUSAGE;
            } else
                return cli_usage_error("models", "unexpected argument \"%s\"", p.value);
            break;
        case CLI_HELP: *help = 1; return RS_OK;
        }
    }
    if (id < 0)
        return RS_EUSAGE;
    if (a->action && !strcmp(a->action, "activate") && !a->id)
        return cli_usage_error("models", "activate which model? (models activate ID)");
    return RS_OK;
}

/* metrics[key] of a JSON object text, or -1. */
static double metric(const char *json, const char *key)
{
    cJSON *o = json ? cJSON_Parse(json) : NULL;
    cJSON *v = cJSON_GetObjectItem(o, key);
    double x = cJSON_IsNumber(v) ? v->valuedouble : -1;
    cJSON_Delete(o);
    return x;
}

static void score_cell(char *buf, size_t n, const char *json, const char *key)
{
    double x = metric(json, key);
    if (x < 0)
        snprintf(buf, n, "%7s", "-");
    else
        snprintf(buf, n, "%7.4f", x);
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static void print_table(const rs_model_list *l)
{
    int ascii = rs_locale_ascii();
    char city[256], file[512];
    static const char ROW[] = "%2s %4s  %-16s %-8s %-5s %-20s %7s %7s  %7s %7s %-6s %s\n";
    printf(ROW, "", "id", "city", "kind", "split", "created", "valid", "valid", "held-out",
           "", "", "file");
    printf("%2s %4s  %-16s %-8s %-5s %-20s %7s %7s  %7s %7s\n", "", "", "", "", "", "",
           "HR@10", "NDCG@10", "HR@10", "NDCG@10");
    for (size_t i = 0; i < l->n; i++) {
        const rs_model_row *r = &l->rows[i];
        char v1[16], v2[16], h1[16], h2[16];
        score_cell(v1, sizeof v1, r->metrics, "hr@10");
        score_cell(v2, sizeof v2, r->metrics, "ndcg@10");
        score_cell(h1, sizeof h1, r->eval_metrics, "hr@10");
        score_cell(h2, sizeof h2, r->eval_metrics, "ndcg@10");
        rs_sanitize_cell(r->city_name[0] ? r->city_name : "?", ascii, 16, city, sizeof city);
        rs_sanitize_msg(base_name(r->info.path), ascii, file, sizeof file);
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)r->info.id);
        printf("%2s %4s  %s %-8s %-5s %-20s %7s %7s  %7s %7s %-6s %s\n", r->active ? "*" : "",
               id, city, r->info.kind, r->info.split, r->info.created_at, v1, v2, h1, h2,
               r->eval_id && r->eval_stale ? "stale" : "", file);
    }
    if (l->n == 0)
        printf("no models registered (run `recoscope train` or `recoscope import-model`)\n");
}

static int print_json(const rs_model_list *l)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < l->n; i++) {
        const rs_model_row *r = &l->rows[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o))
            break;
        cJSON_AddNumberToObject(o, "id", (double)r->info.id);
        cJSON_AddNumberToObject(o, "city_id", (double)r->info.city_id);
        cJSON_AddStringToObject(o, "city", r->city_name);
        cJSON_AddStringToObject(o, "kind", r->info.kind);
        cJSON_AddStringToObject(o, "split", r->info.split);
        cJSON_AddBoolToObject(o, "active", r->active);
        cJSON_AddStringToObject(o, "created_at", r->info.created_at);
        cJSON_AddNumberToObject(o, "seconds", r->info.seconds);
        cJSON_AddStringToObject(o, "path", r->info.path);
        cJSON *pj = r->params ? cJSON_Parse(r->params) : NULL;
        cJSON_AddItemToObject(o, "params", pj ? pj : cJSON_CreateObject());
        cJSON *mj = r->metrics ? cJSON_Parse(r->metrics) : NULL;
        cJSON_AddItemToObject(o, "validation", mj ? mj : cJSON_CreateNull());
        cJSON *ej = r->eval_metrics ? cJSON_Parse(r->eval_metrics) : NULL;
        cJSON_AddItemToObject(o, "heldout", ej ? ej : cJSON_CreateNull());
        if (r->eval_id) {
            cJSON_AddNumberToObject(o, "heldout_evaluation", (double)r->eval_id);
            cJSON_AddBoolToObject(o, "heldout_stale", r->eval_stale);
        }
    }
    char *raw = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    /* cJSON escapes C0 only: DEL, C1, bidi and invalid UTF-8 of paths and city names
     * through the one JSON rule of sanitize.c */
    char *text = raw ? rs_sanitize_json(raw) : NULL;
    free(raw);
    if (!text) {
        cli_warn("recoscope models: out of memory\n");
        return RS_EINTERNAL;
    }
    puts(text);
    free(text);
    return RS_OK;
}

int cmd_models(rs_cli *cli, int argc, char **argv)
{
    models_args a;
    int help = 0, rc;
    if ((rc = parse_args(argc, argv, &a, &help)))
        return rc;
    if (help) {
        fputs(USAGE, stdout);
        return RS_OK;
    }
    rs_error e = {0};
    rs_store *s = NULL;
    rs_model_list l = {0};
    int64_t city = -1;
    const int writes = a.action != NULL && !a.dry_run;
    if ((rc = rs_store_open(cli->db_path, writes ? 0 : RS_STORE_READONLY, &s, &e)) ||
        (a.city && (rc = rs_store_city_id(s, a.city, &city, &e))))
        goto fail;
    if (!a.action) {
        if ((rc = rs_registry_list(s, city, a.kind, &l, &e)))
            goto fail;
        rc = a.json ? print_json(&l) : (print_table(&l), RS_OK);
    } else if (!strcmp(a.action, "activate")) {
        rs_model_info info;
        int64_t prev = 0;
        if ((rc = rs_registry_activate(s, a.id, &info, &prev, &e)))
            goto fail;
        if (prev == a.id)
            cli_message(stdout, "model %lld (%s, city id %lld, split %s) is already active\n",
                        (long long)a.id, info.kind, (long long)info.city_id, info.split);
        else
            cli_message(stdout, "model %lld (%s, city id %lld, split %s) is now active%s\n",
                        (long long)a.id, info.kind, (long long)info.city_id, info.split,
                        prev ? "" : " (there was none)");
        if (prev && prev != a.id)
            cli_message(stdout, "model %lld is kept in the registry (`recoscope models "
                        "activate %lld` brings it back)\n", (long long)prev, (long long)prev);
    } else {
        rs_prune_result r;
        if ((rc = rs_registry_prune(s, city, a.kind, (int)a.keep, a.dry_run, &r, &e)))
            goto fail;
        cli_message(stdout, "%s %lld model%s (%lld file%s, %.1f MiB)%s; kept the %lld newest "
                    "of each city, kind and split and every active one\n",
                    a.dry_run ? "would remove" : "removed", (long long)r.rows,
                    r.rows == 1 ? "" : "s", (long long)r.files, r.files == 1 ? "" : "s",
                    (double)r.bytes / 1048576.0,
                    r.kept_outside ? " (files outside the models directory left alone)" : "",
                    (long long)a.keep);
    }
    goto done;
fail:
    cli_fail(&e);
done:
    rs_model_list_free(&l);
    rs_store_close(s);
    return rc;
}

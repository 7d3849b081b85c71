/* cmd_export.c - `recoscope export` (a registered model to word2vec text/binary) and
 * `recoscope import-model` (a word2vec file, e.g. from gensim, as the active model). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/corpus.h"
#include "../core/model.h"
#include "../core/publish.h"
#include "../core/store.h"
#include "../core/w2v_format.h"
#include "cli.h"

static void export_usage(FILE *f)
{
    fprintf(f,
            "usage: recoscope export [--city NAME] [--kind product|category] [--matrix in|out]\n"
            "                        [--split all|train|fit] --format word2vec|word2vec-bin\n"
            "                        --out FILE\n"
            "\n"
            "Writes the active model of a city (falling back to the all-cities model) in the\n"
            "standard word2vec text or binary format, with external product ids (categories:\n"
            "their external ids) as words, most frequent first.\n"
            "\n"
            "  --city NAME     the city whose model to export (default: all cities)\n"
            "  --kind KIND     product (default) or category\n"
            "  --matrix M      in: input vectors (default; what gensim's wv holds and what\n"
            "                  synonyms use); out: output vectors (complements)\n"
            "  --split S       the registry split of the model (default all)\n"
            "  --format F      word2vec (text) or word2vec-bin (binary, float32)\n"
            "  --out FILE      the file to write (replaced atomically)\n");
}

static void import_usage(FILE *f)
{
    fprintf(f,
            "usage: recoscope import-model FILE [--output FILE2] [--city NAME]\n"
            "                              [--kind product|category]\n"
            "                              [--format auto|word2vec|word2vec-bin] [--no-activate]\n"
            "\n"
            "Imports word2vec vectors (gensim's save_word2vec_format, word2vec.c, Spark) whose\n"
            "words are external product ids (categories: external category ids), saves them in\n"
            "recoscope's format and makes them the active model of the city.  Words that are\n"
            "not known ids are counted and skipped; none known is an error.  Without --output\n"
            "the model has input vectors only: synonyms work, but complements and basket\n"
            "completion need output vectors (`recoscope train`, or --output).\n"
            "\n"
            "  FILE            input vectors (gensim: model.wv)\n"
            "  --output FILE2  output vectors with the same words and dimension\n"
            "                  (gensim: model.syn1neg), enabling complements\n"
            "  --city NAME     the city the model is for (default: all cities)\n"
            "  --kind KIND     product (default) or category\n"
            "  --format F      auto (default: decided from the file), word2vec or word2vec-bin\n"
            "  --no-activate   register the model without making it active\n");
}

/* The value of an option at argv[*i] ("--opt VALUE" or "--opt=VALUE"), or NULL when
 * argv[*i] is not that option.  *missing is set when the value is absent. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != 0)
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

static int kind_ok(const char *kind)
{
    return strcmp(kind, RS_KIND_PRODUCT) == 0 || strcmp(kind, RS_KIND_CATEGORY) == 0;
}

int cmd_export(rs_cli *cli, int argc, char **argv)
{
    const char *city = NULL, *kind = RS_KIND_PRODUCT, *matrix = "in", *split = "all",
               *format = NULL, *outpath = NULL;
    if (cli_wants_help(argc, argv)) {
        export_usage(stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if ((v = opt_value(argc, argv, &i, "--city", &missing)))
            city = v;
        else if ((v = opt_value(argc, argv, &i, "--kind", &missing)))
            kind = v;
        else if ((v = opt_value(argc, argv, &i, "--matrix", &missing)))
            matrix = v;
        else if ((v = opt_value(argc, argv, &i, "--split", &missing)))
            split = v;
        else if ((v = opt_value(argc, argv, &i, "--format", &missing)))
            format = v;
        else if ((v = opt_value(argc, argv, &i, "--out", &missing)))
            outpath = v;
        else if (missing)
            return cli_usage_error("export", "%s needs a value", argv[i]);
        else
            return cli_usage_error("export", "unknown argument \"%s\"", argv[i]);
        if (missing)
            return cli_usage_error("export", "%s needs a value", argv[i]);
    }
    rs_w2v_format fmt;
    if (!format || rs_w2v_format_parse(format, &fmt) != RS_OK || fmt == RS_W2V_AUTO)
        return cli_usage_error("export", "--format must be word2vec or word2vec-bin");
    if (!outpath || !*outpath)
        return cli_usage_error("export", "--out FILE is required");
    if (!kind_ok(kind))
        return cli_usage_error("export", "--kind must be product or category (got \"%s\")",
                               kind);
    if (strcmp(matrix, "in") != 0 && strcmp(matrix, "out") != 0)
        return cli_usage_error("export", "--matrix must be in or out (got \"%s\")", matrix);
    rs_split sp;
    if (rs_split_parse(split, &sp) != RS_OK)
        return cli_usage_error("export", "unknown --split \"%s\"", split);

    rs_error e = {0};
    rs_store *s = NULL;
    rs_embedding *m = NULL;
    int rc;
    if ((rc = rs_store_open(cli->db_path, RS_STORE_READONLY, &s, &e)))
        return cli_fail(&e);
    int64_t city_id = 0, used = 0;
    rs_model_info info;
    if ((rc = rs_store_city_id(s, city, &city_id, &e)) ||
        (rc = rs_registry_load_active(s, city_id, kind, split, &m, &used, &info, &e))) {
        cli_fail(&e);
        goto done;
    }
    if (used != city_id)
        fprintf(stderr, "recoscope export: city \"%s\" has no %s model; exporting the "
                "all-cities model\n", city, kind);
    const float *mat = m->in;
    if (strcmp(matrix, "out") == 0) {
        if (!m->out) {
            rc = RS_EUSAGE;
            fprintf(stderr, "recoscope export: %s: the model has no output vectors (it was "
                    "imported from word2vec input vectors); train one with `recoscope train`\n",
                    info.path);
            goto done;
        }
        mat = m->out;
    }
    if (!m->ext_ids) {
        rc = rs_seterr(&e, RS_EDATA, "%s: the model carries no external ids", info.path);
        cli_fail(&e);
        goto done;
    }
    if ((rc = rs_w2v_write(outpath, fmt, m->rows, m->dim, m->ext_ids, mat, &e))) {
        cli_fail(&e);
        goto done;
    }
    printf("wrote %d %s vectors (%s, dimension %d) of model %lld to %s\n", m->rows, kind,
           matrix, m->dim, (long long)info.id, outpath);
done:
    rs_embedding_free(m);
    rs_store_close(s);
    return rc;
}

/* Looks every word up as an external id of kind; item[i] = index or -1. */
static int map_words(rs_store *s, const char *kind, const rs_w2v *w, int32_t *item,
                     int32_t *n_items, int64_t *known, rs_error *e)
{
    sqlite3 *db = rs_store_db(s);
    const int product = strcmp(kind, RS_KIND_PRODUCT) == 0;
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(db, product ? "SELECT coalesce(max(id), 0) FROM products"
                                       : "SELECT coalesce(max(id), 0) FROM categories",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = rs_store_sqlerr(s, e, "counting items");
        goto done;
    }
    int64_t max = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (max > INT32_MAX) {
        rc = rs_seterr(e, RS_EDATA, "too many items in the database");
        goto done;
    }
    *n_items = (int32_t)max;
    if (sqlite3_prepare_v2(db, product ? "SELECT id FROM products WHERE ext_id = ?1"
                                       : "SELECT id FROM categories WHERE ext_id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = rs_store_sqlerr(s, e, "looking up ids");
        goto done;
    }
    *known = 0;
    for (int64_t i = 0; i < w->count; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, w->words[i], -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            item[i] = (int32_t)(sqlite3_column_int64(st, 0) - 1);
            (*known)++;
        } else if (step == SQLITE_DONE) {
            item[i] = -1;
        } else {
            rc = rs_store_sqlerr(s, e, "looking up ids");
            goto done;
        }
    }
done:
    sqlite3_finalize(st);
    return rc;
}

int cmd_import_model(rs_cli *cli, int argc, char **argv)
{
    const char *file = NULL, *outfile = NULL, *city = NULL, *kind = RS_KIND_PRODUCT,
               *format = "auto";
    int activate = 1;
    if (cli_wants_help(argc, argv)) {
        import_usage(stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if ((v = opt_value(argc, argv, &i, "--output", &missing)))
            outfile = v;
        else if ((v = opt_value(argc, argv, &i, "--city", &missing)))
            city = v;
        else if ((v = opt_value(argc, argv, &i, "--kind", &missing)))
            kind = v;
        else if ((v = opt_value(argc, argv, &i, "--format", &missing)))
            format = v;
        else if (strcmp(argv[i], "--no-activate") == 0)
            activate = 0;
        else if (missing)
            return cli_usage_error("import-model", "%s needs a value", argv[i]);
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("import-model", "unknown option \"%s\"", argv[i]);
        else if (!file)
            file = argv[i];
        else
            return cli_usage_error("import-model", "one FILE only (got \"%s\" too)", argv[i]);
        if (missing)
            return cli_usage_error("import-model", "%s needs a value", argv[i]);
    }
    if (!file)
        return cli_usage_error("import-model", "which FILE?");
    rs_w2v_format fmt;
    if (rs_w2v_format_parse(format, &fmt) != RS_OK)
        return cli_usage_error("import-model",
                               "--format must be auto, word2vec or word2vec-bin (got \"%s\")",
                               format);
    if (!kind_ok(kind))
        return cli_usage_error("import-model",
                               "--kind must be product or category (got \"%s\")", kind);

    int rc = RS_OK;
    rs_error e = {0};
    rs_w2v *w = NULL, *wo = NULL;
    rs_store *s = NULL;
    rs_embedding m = {0};
    int32_t *item = NULL;
    const char **ids = NULL;
    if ((rc = rs_w2v_read(file, fmt, &w, &e)) ||
        (outfile && (rc = rs_w2v_read(outfile, fmt, &wo, &e))))
        goto fail;
    int32_t *out_row = NULL; /* row of wo for each word of w */
    if (wo) {
        if (wo->dim != w->dim) {
            rc = rs_seterr(&e, RS_EDATA, "wrong dimension between files: %s has %d, %s has %d",
                           file, w->dim, outfile, wo->dim);
            goto fail;
        }
        if (wo->count != w->count) {
            rc = rs_seterr(&e, RS_EDATA, "%s has %lld vectors, %s has %lld: not the same words",
                           file, (long long)w->count, outfile, (long long)wo->count);
            goto fail;
        }
    }
    if ((rc = rs_store_open(cli->db_path, 0, &s, &e)))
        goto fail;
    int64_t city_id = 0;
    if ((rc = rs_store_city_id(s, city, &city_id, &e)))
        goto fail;
    item = malloc((size_t)w->count * sizeof *item);
    if (!item) {
        rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    int64_t known = 0;
    int32_t n_items = 0;
    if ((rc = map_words(s, kind, w, item, &n_items, &known, &e)))
        goto fail;
    int64_t unknown = w->count - known;
    if (known == 0) {
        rc = rs_seterr(&e, RS_EDATA,
                       "%s: none of its %lld words is a known %s id (first word \"%s\"); "
                       "were the vectors trained on this database's ids?",
                       file, (long long)w->count, kind, w->words[0]);
        goto fail;
    }
    if (unknown > 0) {
        int64_t first = 0;
        while (item[first] >= 0)
            first++;
        fprintf(stderr, "recoscope import-model: warning: %lld of %lld words are not known %s "
                "ids and are skipped (first: \"%s\")\n", (long long)unknown,
                (long long)w->count, kind, w->words[first]);
    }

    /* the output file's rows in the order of the input file's words */
    if (wo) {
        out_row = malloc((size_t)w->count * sizeof *out_row);
        int32_t *wo_item = malloc((size_t)wo->count * sizeof *wo_item);
        int64_t wo_known = 0;
        int32_t wo_n = 0;
        if (!out_row || !wo_item) {
            free(out_row);
            free(wo_item);
            rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
            goto fail;
        }
        rc = map_words(s, kind, wo, wo_item, &wo_n, &wo_known, &e);
        int32_t *row_of_item = rc ? NULL : malloc(((size_t)n_items + 1) * sizeof *row_of_item);
        if (!rc && !row_of_item)
            rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
        if (!rc) {
            for (int32_t i = 0; i < n_items; i++)
                row_of_item[i] = -1;
            for (int64_t i = 0; i < wo->count; i++)
                if (wo_item[i] >= 0)
                    row_of_item[wo_item[i]] = (int32_t)i;
            for (int64_t i = 0; i < w->count && !rc; i++) {
                out_row[i] = item[i] >= 0 ? row_of_item[item[i]] : -1;
                if (item[i] >= 0 && out_row[i] < 0)
                    rc = rs_seterr(&e, RS_EDATA, "%s has no vector for \"%s\" (in %s): the "
                                   "files must hold the same words", outfile, w->words[i], file);
            }
        }
        free(row_of_item);
        free(wo_item);
        if (rc) {
            free(out_row);
            goto fail;
        }
    }

    /* the embedding over the database's index space, rows in file order */
    m.n_items = n_items;
    m.rows = (int32_t)known;
    m.dim = w->dim;
    m.row_item = malloc((size_t)known * sizeof *m.row_item);
    m.item_row = malloc((size_t)n_items * sizeof *m.item_row);
    m.in = malloc((size_t)known * (size_t)w->dim * sizeof *m.in);
    m.out = wo ? malloc((size_t)known * (size_t)w->dim * sizeof *m.out) : NULL;
    ids = malloc((size_t)known * sizeof *ids);
    if (!m.row_item || !m.item_row || !m.in || (wo && !m.out) || !ids) {
        free(out_row);
        rc = rs_seterr(&e, RS_EINTERNAL, "out of memory");
        goto fail;
    }
    for (int32_t i = 0; i < n_items; i++)
        m.item_row[i] = -1;
    int32_t r = 0;
    for (int64_t i = 0; i < w->count; i++) {
        if (item[i] < 0)
            continue;
        m.row_item[r] = item[i];
        m.item_row[item[i]] = r;
        ids[r] = w->words[i];
        memcpy(m.in + (size_t)r * (size_t)w->dim, w->vectors + (size_t)i * (size_t)w->dim,
               (size_t)w->dim * sizeof(float));
        if (wo)
            memcpy(m.out + (size_t)r * (size_t)w->dim,
                   wo->vectors + (size_t)out_row[i] * (size_t)w->dim,
                   (size_t)w->dim * sizeof(float));
        r++;
    }
    free(out_row);

    char params[2048];
    snprintf(params, sizeof params,
             "{\"imported\":true,\"format\":\"%s\",\"words\":%lld,\"unknown\":%lld,"
             "\"dim\":%d,\"has_output\":%s}",
             w->format == RS_W2V_TEXT ? "word2vec" : "word2vec-bin", (long long)w->count,
             (long long)unknown, w->dim, wo ? "true" : "false");
    char fingerprint[1200];
    snprintf(fingerprint, sizeof fingerprint, "imported:%s", file);
    int64_t id = 0;
    rs_publish pub = {.city_id = city_id, .kind = kind, .params_json = params,
                      .fingerprint = fingerprint, .activate = activate, .ext_ids = ids};
    if ((rc = rs_model_publish(s, &m, &pub, &id, NULL, 0, &e)))
        goto fail;
    printf("imported %lld of %lld vectors (dimension %d) from %s as %s%s model %lld for %s%s\n",
           (long long)known, (long long)w->count, w->dim, file, activate ? "the active " : "",
           kind, (long long)id, city_id ? "city " : "all cities", city_id ? city : "");
    if (!wo)
        printf("note: the model has input vectors only: synonyms work; complements and basket "
               "completion need output vectors (train our own with `recoscope train`, or "
               "import them with --output)\n");
    goto done;
fail:
    cli_fail(&e);
done:
    free(ids);
    free(item);
    free(m.row_item);
    free(m.item_row);
    free(m.in);
    free(m.out);
    rs_w2v_free(w);
    rs_w2v_free(wo);
    rs_store_close(s);
    return rc;
}

/* cmd_export.c - `recoscope export` (a registered model to word2vec text/binary) and
 * `recoscope import-model` (a word2vec file, e.g. from gensim, as the active model).
 * Parsing and printing only: the model comes from the registry, the mapping of words
 * to ids is core/w2v_import.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/model.h"
#include "../core/store.h"
#include "../core/w2v_format.h"
#include "../core/w2v_import.h"
#include "cli.h"
#include "opt.h"

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
            "  --out FILE      the file to write (replaced atomically; it must be a regular\n"
            "                  file or absent), or - for standard output\n");
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

static const char *const KINDS[] = {RS_KIND_PRODUCT, RS_KIND_CATEGORY, NULL};

enum { OPT_CITY = 1, OPT_KIND, OPT_MATRIX, OPT_SPLIT, OPT_FORMAT, OPT_OUT, OPT_OUTPUT,
       OPT_NO_ACTIVATE };

static const cli_opt EXPORT_OPTS[] = {
    {"city", 0, CLI_ARG, OPT_CITY},
    {"kind", 0, CLI_ARG, OPT_KIND},
    {"matrix", 0, CLI_ARG, OPT_MATRIX},
    {"split", 0, CLI_ARG, OPT_SPLIT},
    {"format", 0, CLI_ARG, OPT_FORMAT},
    {"out", 0, CLI_ARG, OPT_OUT},
    {NULL, 0, 0, 0},
};

typedef struct export_args {
    const char *city, *kind, *split, *out;
    int matrix_out;
    rs_w2v_format fmt;
} export_args;

static int export_args_parse(int argc, char **argv, export_args *a, int *help)
{
    static const char *const MATRICES[] = {"in", "out", NULL};
    static const char *const FORMATS[] = {"word2vec", "word2vec-bin", NULL};
    static const char *const SPLITS[] = {"all", "train", "test", "fit", "valid", NULL};
    cli_parser p;
    int id, k, have_format = 0;
    *a = (export_args){.kind = RS_KIND_PRODUCT, .split = "all"};
    cli_opt_init(&p, "export", argc, argv, EXPORT_OPTS);
    while ((id = cli_opt_next(&p)) > 0) {
        switch (id) {
        case OPT_CITY: a->city = p.value; break;
        case OPT_KIND:
            if (cli_opt_choice(&p, KINDS, &k))
                return RS_EUSAGE;
            a->kind = KINDS[k];
            break;
        case OPT_MATRIX:
            if (cli_opt_choice(&p, MATRICES, &k))
                return RS_EUSAGE;
            a->matrix_out = k == 1;
            break;
        case OPT_SPLIT:
            if (cli_opt_choice(&p, SPLITS, &k))
                return RS_EUSAGE;
            a->split = SPLITS[k];
            break;
        case OPT_FORMAT:
            if (cli_opt_choice(&p, FORMATS, &k))
                return RS_EUSAGE;
            a->fmt = k == 0 ? RS_W2V_TEXT : RS_W2V_BINARY;
            have_format = 1;
            break;
        case OPT_OUT:
            if (cli_opt_nonempty(&p))
                return RS_EUSAGE;
            a->out = p.value;
            break;
        case CLI_POSITIONAL:
            return cli_usage_error("export", "unexpected argument \"%s\"", p.value);
        case CLI_HELP: *help = 1; return RS_OK;
        }
    }
    if (id < 0)
        return RS_EUSAGE;
    if (!have_format)
        return cli_usage_error("export", "--format must be word2vec or word2vec-bin");
    if (!a->out)
        return cli_usage_error("export", "--out FILE is required (- for standard output)");
    return RS_OK;
}

int cmd_export(rs_cli *cli, int argc, char **argv)
{
    export_args a;
    int help = 0, rc;
    if ((rc = export_args_parse(argc, argv, &a, &help)))
        return rc;
    if (help) {
        export_usage(stdout);
        return RS_OK;
    }
    rs_error e = {0};
    rs_store *s = NULL;
    rs_embedding *m = NULL;
    int64_t city_id = 0, used = 0;
    rs_model_info info;
    const int to_stdout = strcmp(a.out, "-") == 0;
    if ((rc = rs_store_open(cli->db_path, RS_STORE_READONLY, &s, &e)) ||
        (rc = rs_store_city_id(s, a.city, &city_id, &e)) ||
        (rc = rs_registry_load_active(s, city_id, a.kind, a.split, &m, &used, &info, &e))) {
        cli_fail(&e);
        goto done;
    }
    if (used != city_id)
        cli_warn("recoscope export: city \"%s\" has no %s model; exporting the all-cities "
                 "model\n", a.city, a.kind);
    if (a.matrix_out && !m->out) {
        rc = RS_EUSAGE;
        cli_warn("recoscope export: %s: the model has no output vectors (it was imported from "
                 "word2vec input vectors); train one with `recoscope train`\n", info.path);
        goto done;
    }
    const float *mat = a.matrix_out ? m->out : m->in;
    if (to_stdout)
        rc = rs_w2v_write_stream(stdout, "standard output", a.fmt, m->rows, m->dim,
                                 m->ext_ids, mat, &e);
    else
        rc = rs_w2v_write(a.out, a.fmt, m->rows, m->dim, m->ext_ids, mat, &e);
    if (rc) {
        cli_fail(&e);
        goto done;
    }
    /* with "-" the vectors are the output: the summary goes to stderr */
    cli_message(to_stdout ? stderr : stdout, "wrote %d %s vectors (%s, dimension %d) of model "
                "%lld to %s\n", m->rows, a.kind, a.matrix_out ? "out" : "in", m->dim,
                (long long)info.id, to_stdout ? "standard output" : a.out);
done:
    rs_embedding_free(m);
    rs_store_close(s);
    return rc;
}

static const cli_opt IMPORT_OPTS[] = {
    {"output", 0, CLI_ARG, OPT_OUTPUT},
    {"city", 0, CLI_ARG, OPT_CITY},
    {"kind", 0, CLI_ARG, OPT_KIND},
    {"format", 0, CLI_ARG, OPT_FORMAT},
    {"no-activate", 0, CLI_FLAG, OPT_NO_ACTIVATE},
    {NULL, 0, 0, 0},
};

static int import_args_parse(int argc, char **argv, rs_w2v_import_opts *o, const char **city,
                             int *help)
{
    static const char *const FORMATS[] = {"auto", "word2vec", "word2vec-bin", NULL};
    static const rs_w2v_format FMT[] = {RS_W2V_AUTO, RS_W2V_TEXT, RS_W2V_BINARY};
    cli_parser p;
    int id, k;
    *o = (rs_w2v_import_opts){.format = RS_W2V_AUTO, .kind = RS_KIND_PRODUCT, .activate = 1};
    *city = NULL;
    cli_opt_init(&p, "import-model", argc, argv, IMPORT_OPTS);
    while ((id = cli_opt_next(&p)) > 0) {
        switch (id) {
        case OPT_OUTPUT: o->output = p.value; break;
        case OPT_CITY: *city = p.value; break;
        case OPT_KIND:
            if (cli_opt_choice(&p, KINDS, &k))
                return RS_EUSAGE;
            o->kind = KINDS[k];
            break;
        case OPT_FORMAT:
            if (cli_opt_choice(&p, FORMATS, &k))
                return RS_EUSAGE;
            o->format = FMT[k];
            break;
        case OPT_NO_ACTIVATE: o->activate = 0; break;
        case CLI_POSITIONAL:
            if (o->input)
                return cli_usage_error("import-model", "one FILE only (got \"%s\" too)",
                                       p.value);
            o->input = p.value;
            break;
        case CLI_HELP: *help = 1; return RS_OK;
        }
    }
    if (id < 0)
        return RS_EUSAGE;
    if (!o->input)
        return cli_usage_error("import-model", "which FILE?");
    return RS_OK;
}

int cmd_import_model(rs_cli *cli, int argc, char **argv)
{
    rs_w2v_import_opts o;
    const char *city = NULL;
    int help = 0, rc;
    if ((rc = import_args_parse(argc, argv, &o, &city, &help)))
        return rc;
    if (help) {
        import_usage(stdout);
        return RS_OK;
    }
    rs_error e = {0};
    rs_store *s = NULL;
    rs_w2v_import_result r;
    memset(&r, 0, sizeof r);
    if ((rc = rs_store_open(cli->db_path, 0, &s, &e)) ||
        (rc = rs_store_city_id(s, city, &o.city_id, &e))) {
        cli_fail(&e);
        goto done;
    }
    rc = rs_w2v_import(s, &o, &r, &e);
    if (r.first_unknown[0])
        cli_warn("recoscope import-model: warning: %lld of %lld words are not known %s ids "
                 "and are skipped (first: \"%s\")\n", (long long)(r.words - r.known),
                 (long long)r.words, o.kind, r.first_unknown);
    if (rc) {
        cli_fail(&e);
        goto done;
    }
    cli_message(stdout, "imported %lld of %lld vectors (dimension %d) from %s as %s%s model "
                "%lld for %s%s\n", (long long)r.known, (long long)r.words, r.dim, o.input,
                o.activate ? "the active " : "", o.kind, (long long)r.id,
                o.city_id ? "city " : "all cities", o.city_id ? city : "");
    if (!r.has_output)
        printf("note: the model has input vectors only: synonyms work; complements and basket "
               "completion need output vectors (train our own with `recoscope train`, or "
               "import them with --output)\n");
done:
    rs_store_close(s);
    return rc;
}

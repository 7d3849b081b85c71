/* cmd_map.c - `recoscope map`: the map of a city's model as a standalone SVG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/map.h"
#include "../core/recommend.h"
#include "../core/store.h"
#include "../core/svg.h"
#include "cli.h"
#include "opt.h"

static void usage(FILE *f)
{
    fputs("usage: recoscope map [--city C] [--kind product|category] --out FILE.svg\n"
          "                     [--method layout|pca] [--labels N] [--width PX] [--height PX]\n"
          "\n"
          "Writes the map of what the city's model learned as a standalone SVG: one point\n"
          "per product (or category) of the active model (the all-cities model when the\n"
          "city has none), projected to two dimensions, a shape and colour per department\n"
          "(or category, or derived cluster when the catalogue has no departments), labels\n"
          "for the most popular points and a legend.  The projections are cached beside\n"
          "the model file (<model>.map) and computed again when the model changes.\n"
          "\n"
          "  --city C        city name, or all (default)\n"
          "  --kind K        product (default) or category\n"
          "  --out FILE      the SVG file to write (required)\n"
          "  --method M      layout (default: neighbourhood-preserving, UMAP-like; seconds\n"
          "                  on 100k products the first time) or pca\n"
          "  --labels N      label the N most popular points (default 25, 0..500)\n"
          "  --width PX, --height PX   size of the picture (default 1200 x 900)\n",
          f);
}

enum { OPT_CITY = 1, OPT_KIND, OPT_OUT, OPT_METHOD, OPT_LABELS, OPT_WIDTH, OPT_HEIGHT };

static const cli_opt OPTS[] = {
    {"city", 'c', CLI_ARG, OPT_CITY},     {"kind", 0, CLI_ARG, OPT_KIND},
    {"out", 'o', CLI_ARG, OPT_OUT},       {"method", 0, CLI_ARG, OPT_METHOD},
    {"labels", 0, CLI_ARG, OPT_LABELS},   {"width", 0, CLI_ARG, OPT_WIDTH},
    {"height", 0, CLI_ARG, OPT_HEIGHT},   {NULL, 0, 0, 0},
};

typedef struct map_args {
    const char *city, *out;
    int kind, method;
    rs_svg_opts svg;
} map_args;

/* 0 ok, -1 help printed, else the usage error's code. */
static int parse_args(int argc, char **argv, map_args *a)
{
    static const char *const KINDS[] = {"product", "category", NULL};
    static const char *const METHODS[] = {"pca", "layout", NULL};
    cli_parser p;
    cli_opt_init(&p, "map", argc, argv, OPTS);
    int id;
    while ((id = cli_opt_next(&p)) > 0) {
        int bad = 0;
        switch (id) {
        case OPT_CITY: bad = cli_opt_nonempty(&p); a->city = p.value; break;
        case OPT_KIND: bad = cli_opt_choice(&p, KINDS, &a->kind); break;
        case OPT_OUT: bad = cli_opt_nonempty(&p); a->out = p.value; break;
        case OPT_METHOD: bad = cli_opt_choice(&p, METHODS, &a->method); break;
        case OPT_LABELS: bad = cli_opt_int32(&p, 0, 500, &a->svg.labels); break;
        case OPT_WIDTH: bad = cli_opt_int32(&p, 500, 20000, &a->svg.width); break;
        case OPT_HEIGHT: bad = cli_opt_int32(&p, 300, 20000, &a->svg.height); break;
        case CLI_HELP: usage(stdout); return -1;
        default: return cli_usage_error("map", "unexpected argument '%s'", p.value);
        }
        if (bad)
            return RS_EUSAGE;
    }
    if (id < 0)
        return RS_EUSAGE;
    if (!a->out)
        return cli_usage_error("map", "--out FILE.svg is required");
    if (strcmp(a->out, "-") == 0)
        return cli_usage_error("map", "--out needs a file name (the SVG is not written to "
                               "standard output)");
    return RS_OK;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* The layout, fitted here when the cache has none (and cached for next time). */
static int ensure_layout(rs_map *m, rs_error *e)
{
    if (m->xy[RS_PROJ_LAYOUT])
        return RS_OK;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rs_layout_opts lo;
    rs_layout_opts_defaults(&lo);
    rs_proj *p = NULL;
    rs_error ce = {0};
    int rc = rs_map_fit_layout(m, &lo, &p, &ce, e);
    if (rc != RS_OK)
        return rc;
    rs_map_adopt_layout(m, p);
    if (ce.code != RS_OK)
        cli_warn("recoscope map: %s\n", ce.msg);
    else
        cli_message(stderr, "layout of %d points computed in %.1f s, cached in %s\n", m->n,
                    seconds_since(&t0), m->cache_file);
    return RS_OK;
}

int cmd_map(rs_cli *cli, int argc, char **argv)
{
    map_args a = {0};
    rs_svg_opts_defaults(&a.svg);
    a.method = RS_PROJ_LAYOUT;
    int prc = parse_args(argc, argv, &a);
    if (prc)
        return prc < 0 ? RS_OK : prc;
    a.svg.method = (rs_proj_method)a.method;
    rs_store *s = NULL;
    rs_recommender *r = NULL;
    rs_map *m = NULL;
    rs_error e = {0};
    int64_t city = 0;
    int rc = rs_store_open(cli->db_path, RS_STORE_READONLY, &s, &e);
    if (rc == RS_OK)
        rc = rs_store_city_id(s, a.city, &city, &e);
    if (rc == RS_OK) {
        rs_rec_options o;
        rs_rec_options_defaults(&o);
        o.no_completion = 1;
        o.no_copurchase = 1;
        rc = rs_recommender_open(s, city, &o, &r, &e);
    }
    if (rc == RS_OK)
        rc = rs_map_open(s, r, a.kind ? RS_MAP_CATEGORIES : RS_MAP_PRODUCTS, &m, &e);
    if (rc == RS_OK && m->note[0])
        cli_warn("recoscope map: %s\n", m->note);
    if (rc == RS_OK && a.svg.method == RS_PROJ_LAYOUT)
        rc = ensure_layout(m, &e);
    if (rc == RS_OK)
        rc = rs_map_svg(m, r, &a.svg, a.out, &e);
    if (rc == RS_OK)
        cli_message(stdout, "wrote %s: %d %s of %s (%s, model #%lld), groups: %s\n", a.out,
                    m->n, rs_map_kind_name(m->kind), city ? rs_rec_city_name(r) : "all cities",
                    rs_proj_method_name(a.svg.method), (long long)m->model.id,
                    rs_map_grouping_name(m->grouping));
    rs_map_close(m);
    rs_recommender_close(r);
    rs_store_close(s);
    if (rc == RS_EUSAGE)
        return cli_usage_error("map", "%s", e.msg);
    return rc == RS_OK ? RS_OK : cli_fail(&e);
}

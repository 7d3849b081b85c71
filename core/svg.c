/* svg.c - a map as a standalone SVG file (see svg.h). */
#include "svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "sanitize.h"

#define NSTYLES 12
#define LEGEND_W 300

/* A shape (path around 0,0) and a colour per group, the grey "other" after them. */
static const char *const SHAPES[NSTYLES + 1] = {
    "M-2.6,0a2.6,2.6 0 1,0 5.2,0a2.6,2.6 0 1,0 -5.2,0", /* circle */
    "M-2.3,-2.3h4.6v4.6h-4.6z",                         /* square */
    "M0,-3L2.8,2.2H-2.8z",                              /* triangle up */
    "M0,-3.2L3.2,0L0,3.2L-3.2,0z",                      /* diamond */
    "M0,3L2.8,-2.2H-2.8z",                              /* triangle down */
    "M-1,-3h2v2h2v2h-2v2h-2v-2h-2v-2h2z",               /* plus */
    "M-2.8,-1.4L-1.4,-2.8L0,-1.4L1.4,-2.8L2.8,-1.4L1.4,0L2.8,1.4L1.4,2.8L0,1.4L-1.4,2.8L-2.8,1.4L-1.4,0z",
    /* ^ cross */
    "M0,-3.3L0.9,-1L3.2,-1L1.3,0.4L2,2.7L0,1.3L-2,2.7L-1.3,0.4L-3.2,-1L-0.9,-1z", /* star */
    "M-3,0L2.2,-2.8V2.8z",                              /* triangle left */
    "M3,0L-2.2,-2.8V2.8z",                              /* triangle right */
    "M0,-3L2.85,-0.93L1.76,2.43H-1.76L-2.85,-0.93z",    /* pentagon */
    "M-3,0L-1.5,-2.6H1.5L3,0L1.5,2.6H-1.5z",            /* hexagon */
    "M-1.6,0a1.6,1.6 0 1,0 3.2,0a1.6,1.6 0 1,0 -3.2,0", /* other: a small dot */
};
static const char *const COLOURS[NSTYLES + 1] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#bcbd22", "#17becf", "#393b79", "#637939", "#e7969c", "#a0a0a0",
};

void rs_svg_opts_defaults(rs_svg_opts *o)
{
    o->width = 1200;
    o->height = 900;
    o->labels = 25;
    o->method = RS_PROJ_LAYOUT;
    o->title = NULL;
}

/* Text from data for XML: control characters (C0, DEL, C1) and non-characters become
 * U+00B7, tabs a space, the five specials entities; at most maxc characters, then
 * an ellipsis.  Independent of the locale. */
static void xml_text(FILE *f, const char *s, int maxc)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    int count = 0;
    while (n > 0) {
        unsigned cp = 0;
        size_t k = rs_utf8_decode(p, n, &cp);
        p += k;
        n -= k;
        if (count++ == maxc) {
            fputs("\xe2\x80\xa6", f);
            break;
        }
        if (cp == '\t')
            cp = ' ';
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF)
            cp = 0xB7;
        switch (cp) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: {
            char buf[4];
            fwrite(buf, 1, rs_utf8_encode(buf, cp), f);
        }
        }
    }
}

/* Markers shrink as points get many. */
static double marker_scale(int32_t n)
{
    return n <= 500 ? 1.6 : n <= 5000 ? 1.2 : n <= 30000 ? 0.9 : 0.7;
}

static int style_of(const rs_map *m, int32_t i)
{
    int g = m->group[i];
    return g >= 0 && g < NSTYLES ? g : NSTYLES;
}

static int64_t popularity(const rs_map *m, const rs_recommender *r, int32_t i)
{
    if (m->item[i] < 0)
        return 0;
    if (m->kind == RS_MAP_CATEGORIES)
        return rs_rec_category_popularity(r, m->item[i], NULL, NULL);
    return rs_rec_popularity_counts(r)[m->item[i]];
}

static const char *name_of(const rs_map *m, const rs_recommender *r, int32_t i)
{
    if (m->item[i] < 0)
        return "";
    if (m->kind == RS_MAP_CATEGORIES)
        return rs_rec_category_name(r, m->item[i]);
    rs_rec_product info;
    return rs_rec_product_info(r, m->item[i], &info, NULL) == RS_OK ? info.name : "";
}

typedef struct order_ctx {
    int64_t pop;
    int32_t i;
} order_ctx;

static int cmp_pop(const void *x, const void *y)
{
    const order_ctx *a = x, *b = y;
    if (a->pop != b->pop)
        return a->pop < b->pop ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* The plot square: origin and side in pixels. */
typedef struct frame {
    double x0, y0, side;
} frame;

static void to_px(const frame *fr, const float *xy, int32_t i, double *px, double *py)
{
    *px = fr->x0 + xy[2 * (size_t)i] * fr->side;
    *py = fr->y0 + (1.0 - xy[2 * (size_t)i + 1]) * fr->side;
}

static void write_head(FILE *f, const rs_map *m, const rs_recommender *r, const rs_svg_opts *o)
{
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" "
            "xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Verdana, "
            "sans-serif\">\n<title>",
            o->width, o->height, o->width, o->height);
    char heading[512];
    if (o->title)
        snprintf(heading, sizeof heading, "%s", o->title);
    else
        snprintf(heading, sizeof heading, "recoscope map: %s of %s", rs_map_kind_name(m->kind),
                 m->city_id ? rs_rec_city_name(r) : "all cities");
    xml_text(f, heading, 200);
    fputs("</title>\n<defs>\n", f);
    double scale = marker_scale(m->n);
    for (int s = 0; s <= NSTYLES; s++)
        fprintf(f, "<path id=\"m%d\" d=\"%s\" fill=\"%s\" transform=\"scale(%.1f)\"/>\n", s,
                SHAPES[s], COLOURS[s], scale);
    fprintf(f, "</defs>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
               "<text x=\"20\" y=\"32\" font-size=\"20\" font-weight=\"bold\">",
            o->width, o->height);
    xml_text(f, heading, 200);
    fprintf(f, "</text>\n<text x=\"20\" y=\"52\" font-size=\"12\" fill=\"#555555\">");
    char sub[400];
    if (o->method == RS_PROJ_PCA)
        snprintf(sub, sizeof sub, "PCA of the %s model's input vectors (axes: %.1f%% and %.1f%% "
                 "of the variance)", m->kind == RS_MAP_CATEGORIES ? "category" : "product",
                 100.0 * m->pca_var[0], 100.0 * m->pca_var[1]);
    else
        snprintf(sub, sizeof sub, "neighbourhood-preserving layout (UMAP-like, 15 neighbours) "
                 "of the %s model's input vectors", m->kind == RS_MAP_CATEGORIES ? "category"
                 : "product");
    xml_text(f, sub, 300);
    fputs("</text>\n", f);
}

static void write_points(FILE *f, const rs_map *m, const frame *fr, const order_ctx *ord,
                         const float *xy)
{
    /* in popularity order, least popular first, whatever the group: the best sellers
     * stay on top and no group hides another (each marker's shape carries its colour) */
    fputs("<g fill-opacity=\"0.85\" stroke=\"none\">\n", f);
    for (int32_t j = 0; j < m->n; j++) {
        int32_t i = ord[j].i;
        if (m->item[i] < 0)
            continue;
        double px, py;
        to_px(fr, xy, i, &px, &py);
        fprintf(f, "<use class=\"point\" xlink:href=\"#m%d\" x=\"%.1f\" y=\"%.1f\"/>\n",
                style_of(m, i), px, py);
    }
    fputs("</g>\n", f);
}

typedef struct box {
    double x0, y0, x1, y1;
} box;

static void write_labels(FILE *f, const rs_map *m, const rs_recommender *r, const frame *fr,
                         const order_ctx *ord, const float *xy, int want)
{
    box *placed = calloc((size_t)(want > 0 ? want : 1), sizeof *placed);
    int np = 0;
    if (!placed)
        return; /* no labels: the map stands without them */
    fputs("<g font-size=\"11\" fill=\"#111111\" stroke=\"#ffffff\" stroke-width=\"3\" "
          "paint-order=\"stroke\" stroke-linejoin=\"round\">\n", f);
    for (int32_t j = m->n - 1; j >= 0 && np < want; j--) {
        int32_t i = ord[j].i;
        if (m->item[i] < 0)
            continue;
        const char *nm = name_of(m, r, i);
        size_t len = strlen(nm);
        double px, py;
        to_px(fr, xy, i, &px, &py);
        int chars = len > 32 ? 33 : (int)len;
        box b = {px + 5, py - 9, px + 5 + 6.2 * chars, py + 3};
        if (b.x1 > fr->x0 + fr->side + 20) { /* no room on the right: to the left */
            b.x0 = px - 5 - 6.2 * chars;
            b.x1 = px - 5;
        }
        int clash = 0;
        for (int k = 0; k < np && !clash; k++)
            clash = b.x0 < placed[k].x1 && placed[k].x0 < b.x1 && b.y0 < placed[k].y1 &&
                    placed[k].y0 < b.y1;
        if (clash)
            continue;
        placed[np++] = b;
        fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\">", b.x0, py + 2);
        xml_text(f, nm, 32);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
    free(placed);
}

static void write_legend(FILE *f, const rs_map *m, const rs_svg_opts *o)
{
    double x = o->width - LEGEND_W + 10, y = 80;
    fprintf(f, "<g font-size=\"12\">\n<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">", x, y);
    const char *what = m->grouping == RS_MAP_BY_DEPARTMENT ? "Departments"
                     : m->grouping == RS_MAP_BY_CATEGORY  ? "Categories"
                     : m->grouping == RS_MAP_BY_CLUSTER   ? "Clusters (derived from the model)"
                                                          : "Points";
    xml_text(f, what, 60);
    fputs("</text>\n", f);
    int shown = m->n_groups < NSTYLES ? m->n_groups : NSTYLES;
    int32_t other = 0;
    for (int g = NSTYLES; g < m->n_groups; g++)
        other += m->groups[g].points;
    int rows = shown + (other > 0);
    double step = rows > 0 && (o->height - 140 - y) / rows < 22 ? (o->height - 140 - y) / rows : 22;
    for (int g = 0; g < rows; g++) {
        int s = g < shown ? g : NSTYLES;
        double yy = y + 22 + g * step;
        fprintf(f, "<g class=\"legend-item\"><use xlink:href=\"#m%d\" fill=\"%s\" "
                "transform=\"translate(%.0f %.1f) scale(%.2f)\"/><text x=\"%.0f\" y=\"%.1f\">",
                s, COLOURS[s], x + 6, yy - 4, 1.6 / marker_scale(m->n), x + 18, yy);
        if (g < shown)
            xml_text(f, m->groups[g].name, 30);
        else
            fprintf(f, "other (%d groups)", m->n_groups - NSTYLES);
        fprintf(f, " (%d)</text></g>\n", g < shown ? m->groups[g].points : other);
    }
    fputs("</g>\n", f);
}

static void write_footer(FILE *f, const rs_map *m, const rs_svg_opts *o)
{
    fprintf(f, "<text x=\"20\" y=\"%d\" font-size=\"11\" fill=\"#555555\">%d points; %s "
               "model #%lld%s; ", o->height - 30, m->n,
            m->kind == RS_MAP_CATEGORIES ? "category" : "product", (long long)m->model.id,
            m->model.city_id == 0 && m->city_id != 0 ? " (all cities' model)" : "");
    fprintf(f, "groups: %s", rs_map_grouping_name(m->grouping));
    fprintf(f, "</text>\n<text x=\"20\" y=\"%d\" font-size=\"10\" fill=\"#777777\">", o->height - 14);
    xml_text(f, m->model_file, 160);
    fputs("</text>\n</svg>\n", f);
}

int rs_map_svg(const rs_map *m, const rs_recommender *r, const rs_svg_opts *opts,
               const char *path, rs_error *e)
{
    rs_svg_opts o;
    if (opts)
        o = *opts;
    else
        rs_svg_opts_defaults(&o);
    if (o.width < LEGEND_W + 200 || o.height < 300)
        return rs_seterr(e, RS_EUSAGE, "an SVG map needs at least %d x 300 pixels",
                         LEGEND_W + 200);
    const float *xy = m->xy[o.method];
    if (!xy)
        return rs_seterr(e, RS_EUSAGE, "the map's %s is not computed",
                         rs_proj_method_name(o.method));
    order_ctx *ord = malloc(((size_t)m->n + 1) * sizeof *ord);
    if (!ord)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    for (int32_t i = 0; i < m->n; i++)
        ord[i] = (order_ctx){popularity(m, r, i), i};
    qsort(ord, (size_t)m->n, sizeof *ord, cmp_pop);
    double pw = o.width - LEGEND_W - 40, ph = o.height - 70 - 60;
    double side = pw < ph ? pw : ph;
    frame fr = {20 + (pw - side) / 2, 70 + (ph - side) / 2, side};
    rs_afile *af = NULL;
    int rc = rs_afile_open(path, &af, e);
    if (rc == RS_OK) {
        FILE *f = rs_afile_stream(af);
        write_head(f, m, r, &o);
        write_points(f, m, &fr, ord, xy);
        write_labels(f, m, r, &fr, ord, xy, o.labels);
        write_legend(f, m, &o);
        write_footer(f, m, &o);
        rc = rs_afile_commit(af, e);
    }
    free(ord);
    return rc;
}

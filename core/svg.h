/* svg.h - a map (map.h) as a standalone SVG file, for reports.
 *
 * One SVG 1.1 document (xlink for <use>, so older viewers show it too), no scripts,
 * no external references:
 *   <title>, a heading (what, city, model, method) and a footer (the model file,
 *   the number of points, whether the groups are derived);
 *   the points: one marker per point, a shape and a colour per group (meaning never
 *   rests on colour alone), drawn least popular first whatever their group, so the
 *   best sellers stay on top and no group hides another; points of groups beyond
 *   the twelfth share a grey "other";
 *   labels for the most popular points (greedy: a label that would overlap one
 *   already placed is left out), with a light halo;
 *   the legend: shape, colour, group name and points per group.
 * Text from data (names) is escaped for XML and cleaned of control characters
 * (C0, DEL, C1 -> U+00B7), independently of the locale.
 * Elements carry classes for tools and tests: "point", "label", "legend-item".
 */
#ifndef RS_SVG_H
#define RS_SVG_H

#include "error.h"
#include "map.h"
#include "recommend.h"

typedef struct rs_svg_opts {
    int width, height; /* pixels (1200 x 900) */
    int labels;        /* most popular points labelled (25) */
    rs_proj_method method;
    const char *title; /* heading; NULL: "<kind> of <city>" */
} rs_svg_opts;

void rs_svg_opts_defaults(rs_svg_opts *o);

/* Writes m (names and popularity from r, the recommender it was opened with) to
 * path through core/atomicfile.h.  The method must be known (m->xy[method]):
 * RS_EUSAGE otherwise. */
int rs_map_svg(const rs_map *m, const rs_recommender *r, const rs_svg_opts *o,
               const char *path, rs_error *e);

#endif

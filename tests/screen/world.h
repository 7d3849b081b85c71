/* world.h - the fixed world of the screen tests: 3 cities, 4 departments, 8
 * categories, 40 products (some with hostile names: ESC sequences, C1 bytes, tabs,
 * invalid UTF-8, CJK, a very long name), ~600 receipts from a fixed LCG, hand-made
 * product and category models (so the dumps do not move when the trainer changes),
 * and metric rows (models, evaluations, runs) for the metric panel.
 *
 * Cities: Springfield has its own models, Shelbyville and Ogdenville fall back to the
 * all-cities models.  With with_models = 0 the registry stays empty.
 */
#ifndef RS_SCREEN_WORLD_H
#define RS_SCREEN_WORLD_H

#include <stddef.h>

/* Builds dir/world.db (dir must exist).  Returns 0, or -1 with a message on stderr. */
int screen_world_build(const char *dir, int with_models, char *db_path, size_t n);

#endif

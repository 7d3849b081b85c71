/* hash.h - FNV-1a 64 (the evaluation split of DESIGN §4) and a content hash. */
#ifndef RS_HASH_H
#define RS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define RS_FNV64_INIT 0xcbf29ce484222325ULL

/* FNV-1a 64 of n bytes, continuing from h (start with RS_FNV64_INIT). */
uint64_t rs_fnv1a64(uint64_t h, const void *data, size_t n);

/* Which part of the evaluation split a receipt with this external id falls in:
 * 0 = held-out test, 1 = validation (carved from training), 2..4 = training proper. */
static inline int rs_split_bucket(uint64_t fnv) { return (int)(fnv % 5); }

#endif

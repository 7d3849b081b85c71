/* sha256.h - SHA-256 (FIPS 180-4), the content hash of the import ledger. */
#ifndef RS_SHA256_H
#define RS_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct rs_sha256 {
    uint32_t h[8];
    uint64_t len;          /* bytes hashed so far */
    unsigned char buf[64]; /* pending partial block */
    size_t nbuf;
    int hw;                /* use the CPU's SHA instructions */
} rs_sha256;

void rs_sha256_init(rs_sha256 *c);
/* The same without CPU instructions (tests compare both). */
void rs_sha256_init_portable(rs_sha256 *c);
void rs_sha256_update(rs_sha256 *c, const void *data, size_t n);
void rs_sha256_final(rs_sha256 *c, unsigned char out[32]);
/* Hex digest (64 characters + NUL) of n bytes. */
void rs_sha256_hex(const void *data, size_t n, char out[65]);
void rs_sha256_tohex(const unsigned char digest[32], char out[65]);

#endif

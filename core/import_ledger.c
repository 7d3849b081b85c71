/* import_ledger.c - the import ledger: which files were imported (by content hash),
 * and what a receipt file is to the ledger before it is parsed: new, already imported,
 * or an earlier version with lines appended (import_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_int.h"
#include "sha256.h"

void imp_file_hash(const rs_csv_file *f, char hex[65])
{
    const size_t block = (size_t)8 << 20;
    rs_sha256 c;
    unsigned char d[32];
    rs_sha256_init(&c);
    for (size_t off = 0; off < f->size; off += block) {
        size_t n = f->size - off < block ? f->size - off : block;
        rs_sha256_update(&c, f->data + off, n);
        rs_csv_file_release(f, off, off + n);
    }
    rs_sha256_final(&c, d);
    rs_sha256_tohex(d, hex);
}

int imp_ledger_check(imp *im, const char *hex, int *already, rs_error *e)
{
    sqlite3_stmt *st = im->st_ledger_find;
    sqlite3_bind_text(st, 1, hex, 64, SQLITE_STATIC);
    int step = sqlite3_step(st);
    *already = step == SQLITE_ROW;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return imp_sqlfail(im, e, "reading the import ledger");
    return RS_OK;
}

int imp_ledger_size_seen(imp *im, size_t size, int *seen, rs_error *e)
{
    sqlite3_stmt *st = im->st_ledger_size;
    sqlite3_bind_int64(st, 1, (int64_t)size);
    int step = sqlite3_step(st);
    *seen = step == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
    sqlite3_reset(st);
    if (step != SQLITE_ROW)
        return imp_sqlfail(im, e, "reading the import ledger");
    return RS_OK;
}

int imp_report_file(imp *im, const char *path, const char *kind, rs_error *e)
{
    rs_import_report *r = im->rep;
    rs_import_file *nf = realloc(r->files, (size_t)(r->nfiles + 1) * sizeof *nf);
    if (!nf) {
        imp_oom(e);
        return -1;
    }
    r->files = nf;
    rs_import_file *f = &nf[r->nfiles];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) {
        imp_oom(e);
        return -1;
    }
    snprintf(f->kind, sizeof f->kind, "%s", kind);
    return r->nfiles++;
}

int imp_ledger_add(imp *im, const rs_csv_file *f, const char *hex, const char *kind,
                   int64_t rows, int64_t skipped, rs_error *e)
{
    sqlite3_stmt *st = im->st_ledger;
    sqlite3_bind_text(st, 1, f->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)f->size);
    sqlite3_bind_text(st, 3, hex, 64, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, rows);
    sqlite3_bind_int64(st, 6, skipped);
    return imp_step_done(im, st, e, "writing the import ledger");
}

int imp_open_checked(imp *im, const char *path, const char *kind, rs_csv_file **out,
                     char hex[65], int *rf, int *skip, rs_error *e)
{
    *out = NULL;
    *skip = 0;
    int rc = rs_csv_file_open(path, out, e);
    if (rc)
        return rc;
    imp_file_hash(*out, hex);
    int already = 0;
    if ((rc = imp_ledger_check(im, hex, &already, e)))
        goto fail;
    if ((*rf = imp_report_file(im, path, kind, e)) < 0) {
        rc = RS_EINTERNAL;
        goto fail;
    }
    if (already) {
        RF(*rf)->already = 1;
        *skip = 1;
        rs_csv_file_close(*out);
        *out = NULL;
    }
    return RS_OK;
fail:
    rs_csv_file_close(*out);
    *out = NULL;
    return rc;
}

/* ---- a receipt file before it is parsed ------------------------------------------ */

typedef struct cand {
    int64_t id, size;
    char hash[65], *path, at[32];
} cand;

/* Ledger files of this kind smaller than size: the earlier versions a file may grow. */
static int load_candidates(imp *im, const char *kind, size_t size, cand **out, int *n,
                           rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK, step;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(im->db, "SELECT id, size, content_hash, path, imported_at"
                                   " FROM import_ledger WHERE kind = ?1 AND size < ?2"
                                   " ORDER BY size, id", -1, &st, NULL) != SQLITE_OK)
        return imp_sqlfail(im, e, "reading the import ledger");
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)size);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        cand *nc = realloc(*out, (size_t)(*n + 1) * sizeof *nc);
        if (!nc) {
            rc = imp_oom(e);
            break;
        }
        *out = nc;
        cand *c = &nc[*n];
        memset(c, 0, sizeof *c);
        c->id = sqlite3_column_int64(st, 0);
        c->size = sqlite3_column_int64(st, 1);
        snprintf(c->hash, sizeof c->hash, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(c->at, sizeof c->at, "%s", (const char *)sqlite3_column_text(st, 4));
        if (!(c->path = strdup((const char *)sqlite3_column_text(st, 3)))) {
            rc = imp_oom(e);
            break;
        }
        (*n)++;
    }
    if (rc == RS_OK && step != SQLITE_DONE)
        rc = imp_sqlfail(im, e, "reading the import ledger");
    sqlite3_finalize(st);
    return rc;
}

/* Hashes f whole, and at each candidate's size the prefix: c[i].id stays > 0 only for
 * the candidates that are a prefix of f. */
static void hash_with_prefixes(const rs_csv_file *f, cand *c, int n, char hex[65])
{
    const size_t block = (size_t)8 << 20;
    rs_sha256 h;
    unsigned char d[32];
    char ph[65];
    rs_sha256_init(&h);
    size_t off = 0;
    for (int i = 0; i <= n; i++) {
        size_t upto = i < n ? (size_t)c[i].size : f->size;
        while (off < upto) {
            size_t k = upto - off < block ? upto - off : block;
            rs_sha256_update(&h, f->data + off, k);
            rs_csv_file_release(f, off, off + k);
            off += k;
        }
        if (i == n)
            break;
        rs_sha256 snap = h;
        rs_sha256_final(&snap, d);
        rs_sha256_tohex(d, ph);
        if (strcmp(ph, c[i].hash) != 0)
            c[i].id = 0;
    }
    rs_sha256_final(&h, d);
    rs_sha256_tohex(d, hex);
}

/* The line number of byte off (1 + the newlines before it). */
static int64_t line_at(const rs_csv_file *f, size_t off)
{
    int64_t line = 1;
    for (const char *p = f->data, *end = f->data + off; (p = memchr(p, '\n', (size_t)(end - p)));
         p++)
        line++;
    rs_csv_file_release(f, 0, off);
    return line;
}

/* f grows the ledger file c (a prefix of it): where its new lines start. */
static int resume_point(const rs_csv_file *f, const cand *c, imp_prior *pr, rs_error *e)
{
    size_t s = (size_t)c->size;
    const char *d = f->data;
    if (d[s - 1] != '\n') {
        /* the earlier version did not end with a newline: only a newline may follow */
        size_t nl = s < f->size && d[s] == '\n' ? 1 : s + 1 < f->size && d[s] == '\r' &&
                                                   d[s + 1] == '\n' ? 2 : 0;
        if (!nl) {
            int64_t line = line_at(f, s);
            size_t ls = s;
            while (ls > 0 && d[ls - 1] != '\n')
                ls--;
            int64_t col = 1;
            for (size_t i = ls; i < s; i++)
                col += ((unsigned char)d[i] & 0xC0) != 0x80;
            return rs_seterr(e, RS_EDATA,
                             "%s:%lld:%lld: this file is %s (imported %s) with more text, but "
                             "that file did not end with a newline and this one continues its "
                             "last line: importing it would change a receipt already imported "
                             "(import the new lines as a file of their own)",
                             f->path, (long long)line, (long long)col, c->path, c->at);
        }
        s += nl;
    }
    pr->resume = s;
    pr->resume_line = line_at(f, s);
    return RS_OK;
}

/* When a file of this path and kind was imported before (with other content, as the
 * caller knows), *at = when; else "". */
static int same_path(imp *im, const char *path, const char *kind, char *at, size_t n,
                     rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    at[0] = '\0';
    if (sqlite3_prepare_v2(im->db, "SELECT imported_at FROM import_ledger WHERE path = ?1"
                                   " AND kind = ?2 ORDER BY id DESC LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK)
        return imp_sqlfail(im, e, "reading the import ledger");
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(at, n, "%s", (const char *)sqlite3_column_text(st, 0));
    else if (step != SQLITE_DONE)
        rc = imp_sqlfail(im, e, "reading the import ledger");
    sqlite3_finalize(st);
    return rc;
}

int imp_ledger_prior(imp *im, const rs_csv_file *f, const char *kind, int need_hash,
                     imp_prior *pr, rs_error *e)
{
    memset(pr, 0, sizeof *pr);
    cand *c = NULL;
    int n = 0, seen = 0;
    char at[32];
    int rc = imp_ledger_size_seen(im, f->size, &seen, e);
    if (rc == RS_OK)
        rc = load_candidates(im, kind, f->size, &c, &n, e);
    if (rc == RS_OK)
        rc = same_path(im, f->path, kind, at, sizeof at, e);
    if (rc || (!need_hash && !seen && n == 0 && !at[0]))
        goto done; /* no hash needed before parsing: it is computed alongside */
    hash_with_prefixes(f, c, n, pr->hex);
    pr->hashed = 1;
    if ((rc = imp_ledger_check(im, pr->hex, &pr->already, e)) || pr->already)
        goto done;
    const cand *first = NULL, *last = NULL; /* the earliest imported, the longest */
    for (int i = 0; i < n; i++)
        if (c[i].id) {
            if (!first || c[i].id < first->id)
                first = &c[i];
            last = &c[i];
        }
    if (!last) {
        snprintf(pr->changed_at, sizeof pr->changed_at, "%s", at);
        goto done;
    }
    pr->grows = 1;
    snprintf(pr->origin, sizeof pr->origin, "%s", first->hash);
    snprintf(pr->grown, sizeof pr->grown, "%s", last->path);
    rc = resume_point(f, last, pr, e);
done:
    for (int i = 0; i < n; i++)
        free(c[i].path);
    free(c);
    return rc;
}

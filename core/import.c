/* import.c - CSV -> SQLite importer: the run (see import.h; the parts are listed in
 * import_int.h).
 *
 * One rs_import_run() is one transaction.  The context loads the id maps of what the
 * database already holds, the catalogue files are read sequentially, then the preset's
 * run function imports its inputs (receipt files go through the parallel pipeline of
 * import_receipts.c), popularity is recomputed and the transaction commits.
 */
#include "import.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "import_int.h"

int imp_oom(rs_error *e) { return rs_seterr(e, RS_EINTERNAL, "out of memory"); }

int imp_sqlfail(imp *im, rs_error *e, const char *what) { return rs_store_sqlerr(im->s, e, what); }

int imp_step_done(imp *im, sqlite3_stmt *st, rs_error *e, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return imp_sqlfail(im, e, what);
    return RS_OK;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s, size_t n)
{
    if (s && n)
        sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* ---- the context ------------------------------------------------------------------ */

/* Records category id's department (0: none); -1 when out of memory. */
static int set_parent(imp *im, int64_t id, int64_t parent)
{
    if ((size_t)id >= im->cat_parent_n) {
        size_t nn = (size_t)id * 2 + 64;
        int64_t *p = realloc(im->cat_parent, nn * sizeof *p);
        if (!p)
            return -1;
        memset(p + im->cat_parent_n, 0, (nn - im->cat_parent_n) * sizeof *p);
        im->cat_parent = p;
        im->cat_parent_n = nn;
    }
    im->cat_parent[id] = parent;
    return 0;
}

static int64_t parent_of(const imp *im, int64_t id)
{
    return (size_t)id < im->cat_parent_n ? im->cat_parent[id] : 0;
}

static int load_map(imp *im, const char *sql, strmap *m, int64_t *next, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK, step;
    if (sqlite3_prepare_v2(im->db, sql, -1, &st, NULL) != SQLITE_OK)
        return imp_sqlfail(im, e, "loading ids");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (!k)
            continue;
        if (sm_put(m, k, n, id)) {
            rc = imp_oom(e);
            break;
        }
        if (id >= *next)
            *next = id + 1;
        if (m == &im->cats && sqlite3_column_type(st, 2) != SQLITE_NULL &&
            set_parent(im, id, sqlite3_column_int64(st, 2))) {
            rc = imp_oom(e);
            break;
        }
    }
    if (rc == RS_OK && step != SQLITE_DONE)
        rc = imp_sqlfail(im, e, "loading ids");
    sqlite3_finalize(st);
    return rc;
}

static int imp_init(imp *im, rs_store *s, const rs_import_opts *o, rs_import_report *rep,
                    rs_error *e)
{
    memset(im, 0, sizeof *im);
    im->s = s;
    im->db = rs_store_db(s);
    im->o = o;
    im->rep = rep;
    im->next_cat = im->next_prod = im->next_city = im->next_rec = 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    im->nthreads = o->threads > 0 ? o->threads : (int)(ncpu < 1 ? 1 : ncpu > 8 ? 8 : ncpu);
    static const struct {
        size_t off;
        const char *sql;
    } S[] = {
        {offsetof(imp, st_cat), "INSERT INTO categories(id, ext_id, name, parent_id, level)"
                                " VALUES (?1, ?2, ?3, ?4, ?5)"},
        {offsetof(imp, st_cat_parent),
         "UPDATE categories SET parent_id = ?2 WHERE id = ?1 AND parent_id IS NULL"},
        {offsetof(imp, st_prod), "INSERT INTO products(id, ext_id, name, category_id, brand, price)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
        {offsetof(imp, st_prod_upd), /* a product in a derived category stays there: the catalogue's
                                        category is kept as its source (clusters_store.h) */
                                     "UPDATE products SET name = ?2, category_id ="
                                     " CASE WHEN source_category_id IS NULL THEN ?3 ELSE category_id END,"
                                     " source_category_id ="
                                     " CASE WHEN source_category_id IS NULL THEN NULL ELSE ?3 END,"
                                     " brand = coalesce(?4, brand), price = coalesce(?5, price)"
                                     " WHERE id = ?1"},
        {offsetof(imp, st_item_sum),
         "INSERT INTO receipt_items(receipt_id, product_id, quantity, weight)"
         " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(receipt_id, product_id) DO UPDATE SET"
         " quantity = quantity + excluded.quantity, weight = weight + excluded.weight"},
        {offsetof(imp, st_city), "INSERT INTO cities(id, name) VALUES (?1, ?2)"},
        {offsetof(imp, st_ledger),
         /* OR IGNORE: two files of one command with the same content get one row */
         "INSERT OR IGNORE INTO import_ledger(path, size, content_hash, kind, rows, skipped,"
         " imported_at)"
         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))"},
        {offsetof(imp, st_ledger_find),
         "SELECT path, imported_at FROM import_ledger WHERE content_hash = ?1"},
        {offsetof(imp, st_ledger_size), "SELECT count(*) FROM import_ledger WHERE size = ?1"},
    };
    for (size_t i = 0; i < sizeof S / sizeof S[0]; i++) {
        sqlite3_stmt **st = (sqlite3_stmt **)((char *)im + S[i].off);
        if (sqlite3_prepare_v3(im->db, S[i].sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) !=
            SQLITE_OK)
            return imp_sqlfail(im, e, "preparing the import");
    }
    int rc;
    if ((rc = imp_feed_init(im, e)))
        return rc;
    if ((rc = load_map(im, "SELECT id, ext_id, parent_id FROM categories", &im->cats,
                       &im->next_cat, e)) ||
        (rc = load_map(im, "SELECT id, ext_id FROM products", &im->prods, &im->next_prod, e)) ||
        (rc = load_map(im, "SELECT id, name FROM cities", &im->cities, &im->next_city, e)))
        return rc;
    int64_t *u = sm_get(&im->cats, UNCAT_NAME, strlen(UNCAT_NAME));
    im->uncat = u ? *u : 0;
    return RS_OK;
}

static void imp_free(imp *im)
{
    sqlite3_stmt *all[] = {im->st_cat,         im->st_cat_parent,  im->st_prod,
                           im->st_prod_upd,    im->st_item_sum,    im->st_city,
                           im->st_ledger,      im->st_ledger_find, im->st_ledger_size};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    imp_feed_free(im);
    sm_free(&im->cats);
    sm_free(&im->prods);
    sm_free(&im->cities);
    sm_free(&im->visitors);
    free(im->cat_parent);
    sm_free(&im->orders);
    free(im->unnamed);
    sqlite3_finalize(im->st_prod_name);
    free(im->order_ts);
    free(im->order_cust);
    free(im->order_custn);
    free(im->ev);
    strpool_free(&im->ar);
}

/* ---- entities ------------------------------------------------------------------- */

int imp_city_id(imp *im, const char *name, size_t n, int64_t *out, rs_error *e)
{
    int is_default = n == 0;
    if (is_default) {
        if (im->default_city) {
            *out = im->default_city;
            return RS_OK;
        }
        name = im->o->default_city && *im->o->default_city ? im->o->default_city : "default";
        n = strlen(name);
    }
    int64_t *v = sm_get(&im->cities, name, n);
    if (!v) {
        int64_t id = im->next_city++;
        sqlite3_bind_int64(im->st_city, 1, id);
        sqlite3_bind_text(im->st_city, 2, name, (int)n, SQLITE_STATIC);
        int rc = imp_step_done(im, im->st_city, e, "adding a city");
        if (rc)
            return rc;
        if (sm_put(&im->cities, name, n, id))
            return imp_oom(e);
        im->rep->cities_added++;
        v = sm_get(&im->cities, name, n);
    }
    *out = *v;
    if (is_default)
        im->default_city = *v;
    return RS_OK;
}

int imp_category_id(imp *im, const char *ext, size_t extn, const char *name, size_t namen,
                    int64_t parent, int level, int64_t *out, rs_error *e)
{
    int64_t *v = sm_get(&im->cats, ext, extn);
    int rc;
    if (v) {
        *out = *v;
        if (parent && !parent_of(im, *v)) {
            sqlite3_bind_int64(im->st_cat_parent, 1, *v);
            sqlite3_bind_int64(im->st_cat_parent, 2, parent);
            if ((rc = imp_step_done(im, im->st_cat_parent, e, "setting a category's department")))
                return rc;
            if (set_parent(im, *v, parent))
                return imp_oom(e);
        }
        return RS_OK;
    }
    int64_t id = im->next_cat++;
    sqlite3_bind_int64(im->st_cat, 1, id);
    sqlite3_bind_text(im->st_cat, 2, ext, (int)extn, SQLITE_STATIC);
    sqlite3_bind_text(im->st_cat, 3, name, (int)namen, SQLITE_STATIC);
    if (parent)
        sqlite3_bind_int64(im->st_cat, 4, parent);
    else
        sqlite3_bind_null(im->st_cat, 4);
    sqlite3_bind_int(im->st_cat, 5, level);
    if ((rc = imp_step_done(im, im->st_cat, e, "adding a category")))
        return rc;
    if (sm_put(&im->cats, ext, extn, id))
        return imp_oom(e);
    if (parent && set_parent(im, id, parent))
        return imp_oom(e);
    if (level == 0)
        im->rep->departments_added++;
    else
        im->rep->categories_added++;
    *out = id;
    return RS_OK;
}

int imp_department_id(imp *im, const char *name, size_t n, int64_t *out, rs_error *e)
{
    char *ext = strpool_alloc(&im->ar, n + 6);
    if (!ext)
        return imp_oom(e);
    memcpy(ext, "dept:", 5);
    memcpy(ext + 5, name, n);
    ext[n + 5] = '\0';
    return imp_category_id(im, ext, n + 5, name, n, 0, 0, out, e);
}

/* "dept:<department>/<name>": the ext id of a category of a department when its name
 * alone is taken (by a category of another department, or by the one "(uncategorised)"
 * without a department). */
static int qualified_category(imp *im, const char *cat, size_t catn, const char *dept,
                              size_t deptn, int64_t parent, int64_t *out, rs_error *e)
{
    size_t n = 5 + deptn + 1 + catn;
    char *ext = strpool_alloc(&im->ar, n + 1);
    if (!ext)
        return imp_oom(e);
    snprintf(ext, n + 1, "dept:%.*s/%.*s", (int)deptn, dept, (int)catn, cat);
    int fresh = !sm_get(&im->cats, ext, n);
    int rc = imp_category_id(im, ext, n, cat, catn, parent, 1, out, e);
    if (rc == RS_OK && fresh && catn && strcmp(cat, UNCAT_NAME) != 0) {
        rs_import_report *r = im->rep;
        if (r->categories_split++ == 0)
            snprintf(r->split_example, sizeof r->split_example, "'%.*s' under '%.*s'",
                     (int)(catn > 60 ? 60 : catn), cat, (int)(deptn > 60 ? 60 : deptn), dept);
    }
    return rc;
}

int imp_category_under(imp *im, const char *cat, size_t catn, const char *dept, size_t deptn,
                       int64_t *out, int *uncat, rs_error *e)
{
    int64_t parent = 0;
    int rc;
    *uncat = catn == 0;
    if (catn == 0 && deptn == 0) {
        if (!im->uncat &&
            (rc = imp_category_id(im, UNCAT_NAME, strlen(UNCAT_NAME), UNCAT_NAME,
                                  strlen(UNCAT_NAME), 0, 1, &im->uncat, e)))
            return rc;
        *out = im->uncat;
        return RS_OK;
    }
    if (deptn && (rc = imp_department_id(im, dept, deptn, &parent, e)))
        return rc;
    if (catn == 0) /* the department keeps its products: "(uncategorised)" of its own */
        return qualified_category(im, UNCAT_NAME, strlen(UNCAT_NAME), dept, deptn, parent, out, e);
    int64_t *v = sm_get(&im->cats, cat, catn);
    if (v && parent && parent_of(im, *v) && parent_of(im, *v) != parent)
        return qualified_category(im, cat, catn, dept, deptn, parent, out, e);
    return imp_category_id(im, cat, catn, cat, catn, parent, 1, out, e);
}

int imp_put_product(imp *im, const char *ext, size_t extn, const char *name, size_t namen,
                    int64_t cat, const char *brand, size_t brandn, int has_price, double price,
                    int64_t *out, rs_error *e)
{
    int64_t *v = sm_get(&im->prods, ext, extn);
    sqlite3_stmt *st = v ? im->st_prod_upd : im->st_prod;
    int64_t id = v ? *v : im->next_prod;
    if (!namen) {
        name = ext;
        namen = extn;
    }
    int k = 1;
    sqlite3_bind_int64(st, k++, id);
    if (!v)
        sqlite3_bind_text(st, k++, ext, (int)extn, SQLITE_STATIC);
    sqlite3_bind_text(st, k++, name, (int)namen, SQLITE_STATIC);
    sqlite3_bind_int64(st, k++, cat);
    bind_text_or_null(st, k++, brand, brandn);
    if (has_price)
        sqlite3_bind_double(st, k++, price);
    else
        sqlite3_bind_null(st, k++);
    int rc = imp_step_done(im, st, e, v ? "updating a product" : "adding a product");
    if (rc)
        return rc;
    if (!v) {
        im->next_prod++;
        if (sm_put(&im->prods, ext, extn, id))
            return imp_oom(e);
        im->rep->products_added++;
    } else
        im->rep->products_updated++;
    *out = id;
    return RS_OK;
}

void imp_progress(imp *im, const char *path, uint64_t done, uint64_t total)
{
    if (im->o->progress)
        im->o->progress(im->o->progress_ctx, path, done, total, im->rep->lines_read);
}

/* ---- inputs --------------------------------------------------------------------- */

int imp_is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int imp_is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* ---- the run ------------------------------------------------------------------------ */

void rs_import_opts_init(rs_import_opts *o)
{
    memset(o, 0, sizeof *o);
    o->session_gap = 1800;
    o->skip_unknown = -1;
    o->header = -1;
}

void rs_import_opts_free(rs_import_opts *o)
{
    if (o->mapping)
        cJSON_Delete(o->mapping);
    o->mapping = NULL;
}

void rs_import_report_free(rs_import_report *r)
{
    for (int i = 0; i < r->nfiles; i++) {
        free(r->files[i].path);
        free(r->files[i].grows);
    }
    free(r->files);
    memset(r, 0, sizeof *r);
}

static int import_all(imp *im, rs_error *e)
{
    const rs_import_opts *o = im->o;
    const rs_import_preset *p = rs_import_presets[0];
    int rc = RS_OK;
    if (o->preset && !(p = rs_import_preset_find(o->preset)))
        return rs_import_preset_check(o->preset, e);
    if (o->categories && (rc = imp_categories_file(im, o->categories, e)))
        return rc;
    if (o->products && (rc = imp_products_file(im, o->products, 0, e)))
        return rc;
    if (o->ninputs == 0 && !(p->flags & RS_PF_INPUT_OPTIONAL))
        return rs_seterr(e, RS_EUSAGE, "the %s preset needs its input as argument: %s", p->name,
                         p->inputs);
    return p->run(im, p, e);
}

/* The number of stored receipt lines (the summary reports what was stored, not what
 * was read: lines of one receipt and product are merged). */
static int count_lines(imp *im, int64_t *n, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(im->db, "SELECT count(*) FROM receipt_items", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = imp_sqlfail(im, e, "counting receipt lines");
    else
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int rs_import_run(rs_store *s, const rs_import_opts *o, rs_import_report *rep, rs_error *e)
{
    memset(rep, 0, sizeof *rep);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    imp im;
    int rc;
    /* 64 MiB of page cache: the transaction's pages beyond it spill into the WAL before
     * the commit.  Measured on the 484 MB synthetic CSV: no slower than 256 MiB, and
     * 150 MB less resident memory (docs/BENCHMARKS.md, "Import memory"). */
    if ((rc = rs_store_exec(s, "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY", e)))
        return rc;
    if ((rc = rs_store_begin(s, e)))
        return rc;
    int64_t before = 0, after = 0;
    if ((rc = imp_init(&im, s, o, rep, e)) == RS_OK &&
        (rc = count_lines(&im, &before, e)) == RS_OK && (rc = import_all(&im, e)) == RS_OK &&
        (rc = count_lines(&im, &after, e)) == RS_OK &&
        (rc = rs_store_refresh_popularity(s, e)) == RS_OK)
        rc = rs_store_commit(s, e);
    rep->lines = after - before;
    imp_free(&im);
    if (rc)
        rs_store_rollback(s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}

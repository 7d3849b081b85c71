/* import_newdb.c - a failed first import leaves nothing behind (import.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "import.h"

void rs_import_tune_process(void)
{
    /* Memory statistics take a global mutex on every allocation; the import does not
     * use them.  Only effective before SQLite initialises (before a store opens). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

void rs_import_prior_probe(rs_import_prior *p, const char *path)
{
    struct stat sb;
    memset(p, 0, sizeof *p);
    p->probed = 1;
    p->db_existed = lstat(path, &sb) == 0 || errno != ENOENT;
    const char *slash = strrchr(path, '/');
    if (slash && slash != path && (p->dir = strndup(path, (size_t)(slash - path))))
        p->dir_existed = stat(p->dir, &sb) == 0;
}

void rs_import_prior_free(rs_import_prior *p)
{
    free(p->dir);
    memset(p, 0, sizeof *p);
}

/* True when nobody has committed anything to the database at path: it cannot be opened
 * as SQLite, or it has no tables, or recoscope's tables are all empty.  Checked under the
 * write lock (BEGIN IMMEDIATE waits for a concurrent writer), so a concurrent first import
 * that committed keeps its database. */
static int nothing_committed(const char *path)
{
    sqlite3 *db = NULL;
    int empty = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        empty = 1; /* not a database at all: what this command left half-made */
        goto done;
    }
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto done;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM sqlite_master) = 0"
                               " OR ((SELECT count(*) FROM import_ledger) = 0"
                               " AND (SELECT count(*) FROM products) = 0"
                               " AND (SELECT count(*) FROM categories) = 0"
                               " AND (SELECT count(*) FROM receipts) = 0)",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        empty = sqlite3_column_int(st, 0);
    else if (st == NULL) {
        /* no recoscope tables: empty only when there are no tables at all */
        sqlite3_stmt *t = NULL;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &t, NULL) ==
                SQLITE_OK &&
            sqlite3_step(t) == SQLITE_ROW)
            empty = sqlite3_column_int(t, 0) == 0;
        sqlite3_finalize(t);
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
done:
    sqlite3_close_v2(db);
    return empty;
}

int rs_import_undo_new_db(const rs_import_prior *p, const char *path, rs_error *e)
{
    if (!p->probed || p->db_existed || !nothing_committed(path))
        return RS_OK;
    static const char *const SUFFIX[] = {"", "-wal", "-shm", "-journal"};
    size_t n = strlen(path) + 16;
    char *q = malloc(n);
    if (!q)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    int rc = RS_OK;
    for (size_t i = 0; i < sizeof SUFFIX / sizeof *SUFFIX; i++) {
        snprintf(q, n, "%s%s", path, SUFFIX[i]);
        if (unlink(q) != 0 && errno != ENOENT && rc == RS_OK)
            rc = rs_seterr(e, RS_EINTERNAL, "cannot remove %s: %s", q, strerror(errno));
    }
    free(q);
    if (p->dir && !p->dir_existed)
        rmdir(p->dir); /* only when empty */
    return rc;
}

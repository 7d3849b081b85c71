/* store.c - the SQLite store (see store.h for the schema). */
#include "store.h"

#include "customers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

struct rs_store {
    sqlite3 *db;
    char *path;
    char *models_dir;
    int readonly;
    int version; /* the schema version read (older ones are read as they are) */
    atomic_int damaged; /* SQLite said the file is malformed (sticky; any thread) */
};

/* What version 2 added to version 1; also the migration of a version-1 database. */
#define SCHEMA_V2                                                                          \
    "CREATE TABLE customers(id INTEGER PRIMARY KEY, city_id INTEGER NOT NULL,"             \
    "  ext_id TEXT NOT NULL, receipts INTEGER NOT NULL, first_ts INTEGER, last_ts INTEGER," \
    "  UNIQUE(city_id, ext_id));\n"                                                         \
    "CREATE INDEX receipts_customer ON receipts(customer, city_id)"                        \
    "  WHERE customer IS NOT NULL;\n"

static const char SCHEMA[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE cities(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  receipts INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE categories(id INTEGER PRIMARY KEY, ext_id TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL, parent_id INTEGER REFERENCES categories(id),"
    "  level INTEGER NOT NULL DEFAULT 1);\n"
    "CREATE INDEX categories_parent ON categories(parent_id);\n"
    "CREATE TABLE products(id INTEGER PRIMARY KEY, ext_id TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL, category_id INTEGER NOT NULL REFERENCES categories(id),"
    "  brand TEXT, price REAL);\n"
    "CREATE INDEX products_category ON products(category_id);\n"
    "CREATE VIRTUAL TABLE products_fts USING fts5(name, content='products',"
    "  content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='1 2 3');\n"
    "CREATE TRIGGER products_ai AFTER INSERT ON products BEGIN"
    "  INSERT INTO products_fts(rowid, name) VALUES (new.id, new.name); END;\n"
    "CREATE TRIGGER products_ad AFTER DELETE ON products BEGIN"
    "  INSERT INTO products_fts(products_fts, rowid, name) VALUES('delete', old.id, old.name); END;\n"
    "CREATE TRIGGER products_au AFTER UPDATE OF name ON products BEGIN"
    "  INSERT INTO products_fts(products_fts, rowid, name) VALUES('delete', old.id, old.name);"
    "  INSERT INTO products_fts(rowid, name) VALUES (new.id, new.name); END;\n"
    "CREATE TABLE receipts(id INTEGER PRIMARY KEY, ext_id TEXT NOT NULL UNIQUE,"
    "  city_id INTEGER NOT NULL REFERENCES cities(id), ts INTEGER, customer TEXT);\n"
    "CREATE INDEX receipts_city ON receipts(city_id);\n"
    "CREATE TABLE receipt_items(receipt_id INTEGER NOT NULL, product_id INTEGER NOT NULL,"
    "  quantity REAL NOT NULL DEFAULT 1, weight REAL NOT NULL DEFAULT 1,"
    "  PRIMARY KEY(receipt_id, product_id)) WITHOUT ROWID;\n"
    "CREATE TABLE import_ledger(id INTEGER PRIMARY KEY, path TEXT NOT NULL,"
    "  size INTEGER NOT NULL, content_hash TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
    "  rows INTEGER NOT NULL, skipped INTEGER NOT NULL DEFAULT 0, imported_at TEXT NOT NULL);\n"
    "CREATE TABLE product_popularity(city_id INTEGER NOT NULL, product_id INTEGER NOT NULL,"
    "  receipts INTEGER NOT NULL, share REAL NOT NULL, percentile REAL NOT NULL,"
    "  PRIMARY KEY(city_id, product_id)) WITHOUT ROWID;\n"
    "CREATE TABLE category_popularity(city_id INTEGER NOT NULL, category_id INTEGER NOT NULL,"
    "  receipts INTEGER NOT NULL, share REAL NOT NULL, percentile REAL NOT NULL,"
    "  PRIMARY KEY(city_id, category_id)) WITHOUT ROWID;\n"
    "CREATE TABLE models(id INTEGER PRIMARY KEY, city_id INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  path TEXT NOT NULL, split TEXT NOT NULL DEFAULT 'all', params TEXT NOT NULL,"
    "  metrics TEXT, fingerprint TEXT, seconds REAL, created_at TEXT NOT NULL,"
    "  active INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE UNIQUE INDEX models_active ON models(city_id, kind, split) WHERE active;\n"
    "CREATE TABLE runs(id INTEGER PRIMARY KEY, city_id INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  grid TEXT, params TEXT NOT NULL, metrics TEXT NOT NULL, seconds REAL NOT NULL,"
    "  created_at TEXT NOT NULL, model_id INTEGER REFERENCES models(id),"
    "  selected INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE evaluations(id INTEGER PRIMARY KEY, city_id INTEGER NOT NULL,"
    "  method TEXT NOT NULL, split TEXT NOT NULL, metrics TEXT NOT NULL,"
    "  created_at TEXT NOT NULL);\n"
    SCHEMA_V2; /* and V3_PARTS (below) */


/* What the user can do about the common environment failures, as a suffix. */
static const char *sql_hint(int rc)
{
    switch (rc) {
    case SQLITE_READONLY: return " (the database file or its directory is not writable)";
    case SQLITE_FULL: return " (the disk is full: nothing was changed)";
    case SQLITE_IOERR:
        return " (an I/O error, often a full disk or a file-size limit: nothing was changed)";
    case SQLITE_CANTOPEN:
        return " (cannot create files beside the database: is its directory writable?)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return " (another recoscope is writing; try again when it has finished)";
    default: return "";
    }
}

int rs_store_sqlerr(rs_store *s, rs_error *e, const char *what)
{
    int rc = sqlite3_errcode(s->db) & 0xff;
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
        atomic_store(&s->damaged, 1);
        return rs_seterr(e, RS_EDATA, "%s: %s: %s", s->path, what, RS_STORE_DAMAGED);
    }
    /* The failing call's code can be overwritten by a later successful call before we
     * get here (a helper that only returned -1); never print "not an error". */
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) {
        /* Lost: ask SQLite whether the file is sound (only on this error path). */
        sqlite3_stmt *st = NULL;
        int damaged = 0;
        if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK)
            damaged = (sqlite3_errcode(s->db) & 0xff) == SQLITE_CORRUPT;
        else if (sqlite3_step(st) == SQLITE_ROW) {
            const char *r = (const char *)sqlite3_column_text(st, 0);
            damaged = !r || strcmp(r, "ok") != 0;
        } else
            damaged = (sqlite3_errcode(s->db) & 0xff) == SQLITE_CORRUPT;
        sqlite3_finalize(st);
        if (damaged) {
            atomic_store(&s->damaged, 1);
            return rs_seterr(e, RS_EDATA, "%s: %s: %s", s->path, what, RS_STORE_DAMAGED);
        }
        return rs_seterr(e, RS_EINTERNAL,
                         "%s: %s failed (if this repeats, the database may be damaged: "
                         "check it with `sqlite3 %s 'PRAGMA integrity_check'`)",
                         s->path, what, s->path);
    }
    return rs_seterr(e, RS_EINTERNAL, "%s: %s: %s%s", s->path, what, sqlite3_errmsg(s->db),
                     sql_hint(rc));
}

int rs_store_damaged(rs_store *s) { return s && atomic_load(&s->damaged); }

int rs_store_exec(rs_store *s, const char *sql, rs_error *e)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = sqlite3_errcode(s->db) & 0xff;
        if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
            atomic_store(&s->damaged, 1);
        int code = (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
                       ? rs_seterr(e, RS_EDATA, "%s: %s", s->path, RS_STORE_DAMAGED)
                       : rs_seterr(e, RS_EINTERNAL, "%s: %s%s", s->path,
                                   msg ? msg : "sqlite error", sql_hint(rc));
        sqlite3_free(msg);
        return code;
    }
    return RS_OK;
}

int rs_store_begin(rs_store *s, rs_error *e) { return rs_store_exec(s, "BEGIN IMMEDIATE", e); }
int rs_store_commit(rs_store *s, rs_error *e) { return rs_store_exec(s, "COMMIT", e); }

void rs_store_rollback(rs_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

const char *rs_store_default_path(void)
{
    const char *env = getenv("RECOSCOPE_DB");
    return (env && *env) ? env : RS_DEFAULT_DB;
}

static int table_count(rs_store *s, int *n, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = rs_store_sqlerr(s, e, "reading the schema");
    else
        *n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static char *models_dir_for(const char *path)
{
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".db") == 0)
        n -= 3;
    char *d = malloc(n + sizeof "-models");
    if (d) {
        memcpy(d, path, n);
        memcpy(d + n, "-models", sizeof "-models");
    }
    return d;
}

/* path made absolute against the working directory (no symlink resolution, so the
 * file need not exist yet).  NULL when out of memory or the cwd is unknown. */
static char *absolute_path(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    char *out = NULL;
    if (asprintf(&out, "%s/%s", cwd, path) < 0)
        return NULL;
    return out;
}

/* Creates the parent directory of path when it is missing (one level: data/). */
static int ensure_parent_dir(const char *path, rs_error *e)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return RS_OK;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir)
        return rs_seterr(e, RS_EUSAGE, "%s: path too long", path);
    memcpy(dir, path, n);
    dir[n] = '\0';
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return rs_seterr(e, RS_EINTERNAL, "%s: cannot create directory: %s", dir, strerror(errno));
    return RS_OK;
}

/* A reader of a WAL database needs its -shm file; in a directory it cannot write, that
 * file cannot be created and SQLite refuses to read.  Then nobody can be writing (a writer
 * needs -wal and -shm there too), and when no -wal file with content exists the database
 * file alone is the whole database: it is opened with `immutable=1` (no locks, no -shm).
 * A -wal file with content (a writer crashed, or writes as another user) keeps the
 * error, since reading without it would show stale data. */
static int immutable_fallback_ok(const char *path)
{
    size_t n = strlen(path);
    char *wal = malloc(n + 5);
    if (!wal)
        return 0;
    memcpy(wal, path, n);
    memcpy(wal + n, "-wal", 5);
    struct stat sb;
    int has_wal = stat(wal, &sb) == 0 && sb.st_size > 0;
    free(wal);
    if (has_wal)
        return 0;
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    int writable = dir && access(dir, W_OK) == 0;
    free(dir);
    return !writable;
}

/* "file:" URI of an absolute path with immutable=1 (percent-encoding what a URI needs). */
static char *immutable_uri(const char *path)
{
    size_t n = strlen(path);
    char *u = malloc(n * 3 + sizeof "file:?immutable=1");
    if (!u)
        return NULL;
    char *q = u;
    q += sprintf(q, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        unsigned c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '/' || c == '-' || c == '_' || c == '.' || c == '~')
            *q++ = (char)c;
        else
            q += sprintf(q, "%%%02X", c);
    }
    strcpy(q, "?immutable=1");
    return u;
}

/* The database path must name a regular file (or nothing yet).  SQLite would block
 * forever opening a FIFO, create "/dev/null-journal" for a link to /dev/null, and say
 * "disk I/O error" for a directory; stat() says what it is without opening it.  (Not
 * open + fstat: closing any descriptor of a file drops every POSIX lock the process
 * holds on it, the locks of this process's other SQLite connections included, and the
 * next of them to close would then delete the -wal and -shm files under the others.)
 * *exists receives whether there is a file. */
static int check_db_file(const char *path, int *exists, rs_error *e)
{
    *exists = 0;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT)
            return rs_seterr(e, RS_EINTERNAL, "%s: %s", path, strerror(errno));
        struct stat lsb;
        if (lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode))
            return rs_seterr(e, RS_EUSAGE, "%s: a symbolic link to nothing", path);
        return RS_OK; /* nothing there (or it appeared meanwhile: SQLite opens it) */
    }
    if (!S_ISREG(sb.st_mode))
        return rs_seterr(e, RS_EUSAGE, "%s: is %s, not a database file", path,
                         S_ISDIR(sb.st_mode)    ? "a directory"
                         : S_ISFIFO(sb.st_mode) ? "a FIFO"
                         : S_ISSOCK(sb.st_mode) ? "a socket"
                                                : "a device");
    *exists = 1;
    return RS_OK;
}

static int pragma_int(rs_store *s, const char *sql, int *v, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = rs_store_sqlerr(s, e, "reading the database header");
    else
        *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* Databases written before the application id was stamped (schema version 1, id 0)
 * are recognised by their tables: all of these, with the columns we read. */
static int has_our_tables(rs_store *s)
{
    static const char *const probes[] = {
        "SELECT key, value FROM meta LIMIT 0",
        "SELECT id, ext_id, name, category_id, brand, price FROM products LIMIT 0",
        "SELECT id, ext_id, city_id, ts, customer FROM receipts LIMIT 0",
        "SELECT receipt_id, product_id, quantity, weight FROM receipt_items LIMIT 0",
        "SELECT id, path, size, content_hash, kind FROM import_ledger LIMIT 0",
        "SELECT id, city_id, kind, path, split, active FROM models LIMIT 0",
        "SELECT id, city_id, kind, params, metrics, selected FROM runs LIMIT 0",
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        sqlite3_stmt *st = NULL;
        int ok = sqlite3_prepare_v2(s->db, probes[i], -1, &st, NULL) == SQLITE_OK;
        sqlite3_finalize(st);
        if (!ok)
            return 0;
    }
    return 1;
}

/* Whether sql (a SELECT ... LIMIT 0) compiles: a table or column is there. */
static int has_sql(rs_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK;
    sqlite3_finalize(st);
    return ok;
}

/* What version 3 added to version 2: derived categories (clusters_store.h).  A derived
 * category is marked in categories.derived; a product moved into one keeps its
 * catalogue category in products.source_category_id (NULL: never moved); a row of
 * derivations per applied clustering.  A new schema runs every sql; an upgrade only
 * those whose probe fails. */
static const struct {
    const char *probe, *sql;
} V3_PARTS[] = {
    {"SELECT derived FROM categories LIMIT 0",
     "ALTER TABLE categories ADD COLUMN derived INTEGER NOT NULL DEFAULT 0"},
    {"SELECT source_category_id FROM products LIMIT 0",
     "ALTER TABLE products ADD COLUMN source_category_id INTEGER REFERENCES categories(id)"},
    {"SELECT id FROM derivations LIMIT 0",
     "CREATE TABLE derivations(id INTEGER PRIMARY KEY, city_id INTEGER NOT NULL,"
     "  model_id INTEGER NOT NULL, method TEXT NOT NULL, k INTEGER NOT NULL,"
     "  params TEXT NOT NULL, created_at TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1)"},
};

/* The upgrade of an older database of ours, in one transaction: 1 -> 2 the customers
 * table, filled from the receipts; 2 -> 3 the derived categories' columns and table.
 * Each part is added only where it is missing. */
static int migrate(rs_store *s, rs_error *e)
{
    int rc = rs_store_begin(s, e);
    if (rc)
        return rc;
    int version = 0;
    rc = pragma_int(s, "PRAGMA user_version", &version, e);
    if (rc == RS_OK && version < 2 && !has_sql(s, "SELECT id FROM customers LIMIT 0") &&
        (rc = rs_store_exec(s, SCHEMA_V2, e)) == RS_OK)
        rc = rs_customers_refresh(s, e);
    for (size_t i = 0; rc == RS_OK && i < sizeof V3_PARTS / sizeof V3_PARTS[0]; i++)
        if (!has_sql(s, V3_PARTS[i].probe))
            rc = rs_store_exec(s, V3_PARTS[i].sql, e);
    if (rc == RS_OK) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", RS_SCHEMA_VERSION);
        rc = rs_store_exec(s, pragma, e);
    }
    if (rc == RS_OK)
        rc = rs_store_commit(s, e);
    if (rc != RS_OK) {
        rs_store_rollback(s);
        rs_errctx(e, "%s: upgrading the database to schema version %d", s->path,
                  RS_SCHEMA_VERSION);
    }
    return rc;
}

/* Ours, another program's, or another version of ours (after the table count said
 * the file holds a schema). */
static int check_identity(rs_store *s, const char *path, rs_error *e)
{
    int version = 0, app = 0, rc;
    if ((rc = pragma_int(s, "PRAGMA user_version", &version, e)) ||
        (rc = pragma_int(s, "PRAGMA application_id", &app, e)))
        return rc;
    if (app != RS_APPLICATION_ID && !(app == 0 && version == 1 && has_our_tables(s)))
        return rs_seterr(e, RS_EDATA,
                         "%s: not a recoscope database (an SQLite file of another program%s)",
                         path, app ? "" : ", or with other tables");
    int older = version >= 1 && version < RS_SCHEMA_VERSION;
    if (older && !s->readonly && (rc = migrate(s, e)) != RS_OK)
        return rc;
    s->version = older && !s->readonly ? RS_SCHEMA_VERSION : version;
    if (older && s->readonly)
        return RS_OK; /* read as it is (rs_store_version): only writers upgrade */
    if (older)
        version = RS_SCHEMA_VERSION;
    if (version != RS_SCHEMA_VERSION)
        return rs_seterr(e, RS_EDATA,
                         "%s: database schema version %d, this recoscope reads version %d "
                         "(re-import into a new database)",
                         path, version, RS_SCHEMA_VERSION);
    if (app == 0 && !s->readonly) { /* stamp a database of ours written before the id */
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA application_id=%d", RS_APPLICATION_ID);
        return rs_store_exec(s, pragma, e);
    }
    return RS_OK;
}

/* Switches to WAL.  Changing the journal mode of a database in rollback mode needs an
 * exclusive lock, and when two processes create a database at once SQLite reports
 * SQLITE_BUSY at once (a lock upgrade deadlock, so no busy handler runs): wait and try
 * again, for as long as the busy timeout. */
static int set_wal(rs_store *s, rs_error *e)
{
    int rc = RS_OK;
    for (int attempt = 0; attempt < 500; attempt++) {
        if ((rc = rs_store_exec(s, "PRAGMA journal_mode=WAL", e)) == RS_OK)
            return RS_OK;
        int code = sqlite3_errcode(s->db) & 0xff;
        if (code != SQLITE_BUSY && code != SQLITE_LOCKED)
            return rc;
        usleep(20000);
    }
    return rc;
}

/* Creates the schema in an empty database.  Two first imports may race on a new path:
 * the table count is taken again inside BEGIN IMMEDIATE, so the second one waits for
 * the first (busy timeout) and then finds the schema made. */
static int create_schema(rs_store *s, const char *path, rs_error *e)
{
    int rc, ntables = 0;
    if ((rc = set_wal(s, e)) != RS_OK || (rc = rs_store_begin(s, e)) != RS_OK)
        return rc;
    if ((rc = table_count(s, &ntables, e)) == RS_OK && ntables == 0) {
        char pragma[96];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d; PRAGMA application_id=%d;",
                 RS_SCHEMA_VERSION, RS_APPLICATION_ID);
        rc = rs_store_exec(s, SCHEMA, e);
        for (size_t i = 0; rc == RS_OK && i < sizeof V3_PARTS / sizeof V3_PARTS[0]; i++)
            rc = rs_store_exec(s, V3_PARTS[i].sql, e);
        if (rc == RS_OK)
            rc = rs_store_exec(s, pragma, e);
    }
    if (rc == RS_OK)
        rc = rs_store_commit(s, e);
    if (rc != RS_OK) {
        rs_store_rollback(s);
        return rc;
    }
    if (ntables == 0)
        s->version = RS_SCHEMA_VERSION;
    return ntables == 0 ? RS_OK : check_identity(s, path, e);
}

int rs_store_open(const char *path, int flags, rs_store **out, rs_error *e)
{
    *out = NULL;
    int rc = RS_OK;
    rs_store *s = calloc(1, sizeof *s);
    if (!s)
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    /* Keep an absolute path: model file names are derived from it and stored in the
     * registry, and must resolve from any working directory. */
    s->path = absolute_path(path);
    s->models_dir = s->path ? models_dir_for(s->path) : NULL;
    s->readonly = (flags & RS_STORE_READONLY) != 0;
    if (!s->path || !s->models_dir) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto fail;
    }

    int exists = 0;
    if ((rc = check_db_file(path, &exists, e)) != RS_OK)
        goto fail;
    if (!exists && !(flags & RS_STORE_CREATE)) {
        rc = rs_seterr(e, RS_EUSAGE,
                       "%s: no database here (run `recoscope import` or `recoscope demo` first, "
                       "or point --db / RECOSCOPE_DB at one)",
                       path);
        goto fail;
    }
    if (!exists && (rc = ensure_parent_dir(path, e)) != RS_OK)
        goto fail;

    int oflags = s->readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot open database: %s", path,
                       s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 10000);
    sqlite3_extended_result_codes(s->db, 0);

    int ntables = 0;
    rc = table_count(s, &ntables, e);
    if (rc != RS_OK && s->readonly &&
        ((sqlite3_errcode(s->db) & 0xff) == SQLITE_READONLY ||
         (sqlite3_errcode(s->db) & 0xff) == SQLITE_CANTOPEN) &&
        immutable_fallback_ok(s->path)) {
        char *uri = immutable_uri(s->path);
        if (!uri) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto fail;
        }
        sqlite3_close_v2(s->db);
        s->db = NULL;
        int orc = sqlite3_open_v2(uri, &s->db,
                                  SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                                  NULL);
        free(uri);
        if (orc != SQLITE_OK) {
            rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot open database: %s", path,
                           s->db ? sqlite3_errmsg(s->db) : "out of memory");
            goto fail;
        }
        sqlite3_extended_result_codes(s->db, 0);
        rc = table_count(s, &ntables, e);
    }
    if (rc != RS_OK) {
        if (e && e->code == RS_EDATA)
            rs_seterr(e, RS_EDATA, "%s: not a recoscope database (not even SQLite)", path);
        goto fail;
    }
    if (ntables == 0) {
        if (s->readonly) {
            rc = rs_seterr(e, RS_EUSAGE, "%s: the database is empty (nothing imported yet)", path);
            goto fail;
        }
        if ((rc = create_schema(s, path, e)) != RS_OK)
            goto fail;
    } else if ((rc = check_identity(s, path, e)) != RS_OK) {
        goto fail;
    }
    if (!s->readonly) {
        if ((rc = set_wal(s, e)) != RS_OK ||
            (rc = rs_store_exec(s, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;", e)) !=
                RS_OK)
            goto fail;
    }
    *out = s;
    return RS_OK;
fail:
    rs_store_close(s);
    return rc;
}

void rs_store_close(rs_store *s)
{
    if (!s)
        return;
    if (s->db)
        sqlite3_close_v2(s->db);
    free(s->path);
    free(s->models_dir);
    free(s);
}

sqlite3 *rs_store_db(rs_store *s) { return s->db; }
const char *rs_store_path(const rs_store *s) { return s->path; }
const char *rs_store_models_dir(const rs_store *s) { return s->models_dir; }

int rs_store_ensure_models_dir(rs_store *s, rs_error *e)
{
    if (mkdir(s->models_dir, 0777) != 0 && errno != EEXIST)
        return rs_seterr(e, RS_EINTERNAL, "%s: cannot create directory: %s", s->models_dir,
                         strerror(errno));
    return RS_OK;
}

int rs_store_city_id(rs_store *s, const char *name, int64_t *id, rs_error *e)
{
    if (!name || !*name || strcmp(name, "all") == 0) {
        *id = 0;
        return RS_OK;
    }
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM cities WHERE name = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return rs_store_sqlerr(s, e, "looking up a city");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else if (step == SQLITE_DONE)
        rc = rs_seterr(e, RS_EUSAGE, "unknown city '%s' (see `recoscope stats` for the cities)",
                       name);
    else
        rc = rs_store_sqlerr(s, e, "looking up a city");
    sqlite3_finalize(st);
    return rc;
}

int rs_store_version(const rs_store *s)
{
    return s->version;
}

int rs_store_count(rs_store *s, const char *table, int64_t *n, rs_error *e)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = rs_store_sqlerr(s, e, "counting rows");
    else
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int rs_store_meta_get(rs_store *s, const char *key, char *buf, size_t n, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    buf[0] = '\0';
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return rs_store_sqlerr(s, e, "reading meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    else if (step != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "reading meta");
    sqlite3_finalize(st);
    return rc;
}

int rs_store_meta_set(rs_store *s, const char *key, const char *value, rs_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = RS_OK;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)", -1,
                           &st, NULL) != SQLITE_OK)
        return rs_store_sqlerr(s, e, "writing meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = rs_store_sqlerr(s, e, "writing meta");
    sqlite3_finalize(st);
    return rc;
}

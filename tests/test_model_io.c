/* test_model_io.c - model files (round trip, every corruption the loader must name)
 * and the registry (one active row per city/kind/split, fallback to all cities). */
#include <fcntl.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "model.h"
#include "publish.h"
#include "testlib.h"

/* A hand-made model: 3 rows over 5 items, dim 3. */
static rs_embedding *toy(int with_out)
{
    rs_embedding *m = calloc(1, sizeof *m);
    m->n_items = 5;
    m->rows = 3;
    m->dim = 3;
    m->row_item = malloc(3 * sizeof *m->row_item);
    m->item_row = malloc(5 * sizeof *m->item_row);
    m->in = malloc(9 * sizeof *m->in);
    m->out = with_out ? malloc(9 * sizeof *m->out) : NULL;
    m->counts = malloc(3 * sizeof *m->counts);
    const int32_t items[3] = {4, 0, 2};
    for (int i = 0; i < 5; i++)
        m->item_row[i] = -1;
    for (int r = 0; r < 3; r++) {
        m->row_item[r] = items[r];
        m->item_row[items[r]] = r;
        m->counts[r] = 100 - r;
        for (int d = 0; d < 3; d++) {
            m->in[r * 3 + d] = (float)(r * 3 + d) * 0.5f - 1.25f;
            if (m->out)
                m->out[r * 3 + d] = (float)(r - d) / 7.0f;
        }
    }
    return m;
}

static const char *const IDS[3] = {"p-four", "p0", "\xc3\xa9t\xc3\xa9"};

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Copies src to dst, applying a patch of n bytes at offset (n = 0: none) and truncating
 * to len bytes (len < 0: keep). */
static void patched_copy(const char *src, const char *dst, long at, const void *bytes, size_t n,
                         long len)
{
    FILE *f = fopen(src, "rb");
    long size = file_size(src);
    unsigned char *buf = malloc((size_t)size);
    if (fread(buf, 1, (size_t)size, f) != (size_t)size)
        test_fail_at(__FILE__, __LINE__, "read %s", src);
    fclose(f);
    if (n)
        memcpy(buf + at, bytes, n);
    f = fopen(dst, "wb");
    fwrite(buf, 1, (size_t)(len >= 0 ? len : size), f);
    fclose(f);
    free(buf);
}

static void expect_load_error(const char *path, const char *needle)
{
    rs_embedding *m = NULL;
    rs_error e = {0};
    int rc = rs_model_load(path, &m, &e);
    if (rc != RS_EDATA || m != NULL || !strstr(e.msg, needle) || !strstr(e.msg, path))
        test_fail_at(__FILE__, __LINE__, "load %s: rc %d, message \"%s\", wanted \"%s\"", path,
                     rc, e.msg, needle);
    else
        test_passed++;
    rs_embedding_free(m);
}

static void test_round_trip(void)
{
    const char *dir = test_tmpdir();
    char path[512], json[600], tmp[600];
    snprintf(path, sizeof path, "%s/m.rsm", dir);
    snprintf(json, sizeof json, "%s/m.rsm.json", dir);
    snprintf(tmp, sizeof tmp, "%s/m.rsm.tmp", dir);
    rs_embedding *m = toy(1);
    rs_error e = {0};
    char *side = rs_model_sidecar(3, "train", "{\"dim\":3}", "{\"hr@10\":0.5}", "fp", 1.5);
    CHECK(side != NULL);
    CHECK_EQ_INT(rs_model_save(path, m, RS_KIND_PRODUCT, IDS, side, &e), RS_OK);
    free(side);
    CHECK(access(tmp, F_OK) != 0); /* renamed away */
    CHECK(file_size(path) % 1 == 0 && file_size(path) > 4096 * 4);

    rs_embedding *l = NULL;
    CHECK_EQ_INT(rs_model_load(path, &l, &e), RS_OK);
    if (l) {
        CHECK_STR(l->kind, "product");
        CHECK_EQ_INT(l->rows, 3);
        CHECK_EQ_INT(l->dim, 3);
        CHECK_EQ_INT(l->n_items, 5);
        CHECK(memcmp(l->in, m->in, 9 * sizeof(float)) == 0);
        CHECK(l->out && memcmp(l->out, m->out, 9 * sizeof(float)) == 0);
        CHECK(l->counts && l->counts[2] == 98);
        CHECK(((uintptr_t)l->in % 4096) == 0); /* page-aligned in memory */
        for (int i = 0; i < 5; i++)
            CHECK_EQ_INT(l->item_row[i], m->item_row[i]);
        CHECK_STR(l->ext_ids[0], "p-four");
        CHECK_STR(l->ext_ids[2], "\xc3\xa9t\xc3\xa9");
        float a[5], b[5];
        int32_t ctx[2] = {4, 1};
        CHECK_EQ_INT(rs_embedding_score_inout(l, ctx, 2, a), 1);
        CHECK_EQ_INT(rs_embedding_score_inout(m, ctx, 2, b), 1);
        CHECK_NEAR(a[0], b[0], 0);
        CHECK_NEAR(a[2], b[2], 0);
        CHECK(isinf(a[1]) && isinf(a[3]));
        /* hand value: in[row of 4] . out[row of 0] */
        CHECK_NEAR(a[0], (-1.25f) * (1 / 7.0f) + (-0.75f) * 0 + (-0.25f) * (-1 / 7.0f), 1e-6);
    }
    rs_embedding_free(l);

    /* the sidecar: the caller's fields plus what the file knows */
    FILE *f = fopen(json, "r");
    CHECK(f != NULL);
    if (f) {
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
        cJSON *o = cJSON_Parse(buf);
        CHECK(o != NULL);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind")), "product");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "split")), "train");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "fingerprint")), "fp");
        CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "city")), 3, 0);
        CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "rows")), 3, 0);
        CHECK_NEAR(cJSON_GetNumberValue(
                       cJSON_GetObjectItem(cJSON_GetObjectItem(o, "params"), "dim")),
                   3, 0);
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(o, "has_output")));
        CHECK(cJSON_GetStringValue(cJSON_GetObjectItem(o, "created_at")) != NULL);
        cJSON_Delete(o);
    }

    /* input only (an imported word2vec model) */
    char p2[512];
    snprintf(p2, sizeof p2, "%s/in-only.rsm", dir);
    rs_embedding *mi = toy(0);
    CHECK_EQ_INT(rs_model_save(p2, mi, RS_KIND_PRODUCT, IDS, NULL, &e), RS_OK);
    CHECK_EQ_INT(rs_model_load(p2, &l, &e), RS_OK);
    if (l) {
        CHECK(l->out == NULL);
        float s[5];
        int32_t ctx[1] = {0};
        CHECK_EQ_INT(rs_embedding_score_inout(l, ctx, 1, s), -1);
    }
    rs_embedding_free(l);
    rs_embedding_free(mi);

    /* bad arguments are refused before anything is written */
    CHECK_EQ_INT(rs_model_save(p2, m, "a-kind-name-too-long", IDS, NULL, &e), RS_EUSAGE);
    const char *const noids[3] = {"a", NULL, "c"};
    CHECK_EQ_INT(rs_model_save(p2, m, "product", noids, NULL, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "row 1") != NULL);
    CHECK_EQ_INT(rs_model_save(p2, m, "product", IDS, "[1,2]", &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "not a JSON object") != NULL);
    char nodir[600];
    snprintf(nodir, sizeof nodir, "%s/missing/dir/m.rsm", dir);
    CHECK_EQ_INT(rs_model_save(nodir, m, "product", IDS, NULL, &e), RS_EINTERNAL);
    CHECK(strstr(e.msg, "cannot create") != NULL);
    rs_embedding_free(m);
}

static void test_corrupt_files(void)
{
    const char *dir = test_tmpdir();
    char good[512], bad[512];
    snprintf(good, sizeof good, "%s/good.rsm", dir);
    snprintf(bad, sizeof bad, "%s/bad.rsm", dir);
    rs_embedding *m = toy(1);
    rs_error e = {0};
    CHECK_EQ_INT(rs_model_save(good, m, RS_KIND_CATEGORY, IDS, NULL, &e), RS_OK);
    rs_embedding_free(m);
    long size = file_size(good);

    rs_embedding *l = NULL;
    CHECK_EQ_INT(rs_model_load("/nonexistent/x.rsm", &l, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "/nonexistent/x.rsm") != NULL);

    patched_copy(good, bad, 0, "RSCOPEM9", 8, -1);
    expect_load_error(bad, "bad magic");
    patched_copy(good, bad, 0, NULL, 0, 100);
    expect_load_error(bad, "truncated");
    patched_copy(good, bad, 0, NULL, 0, size - 3);
    expect_load_error(bad, "truncated");
    uint32_t v = 2;
    patched_copy(good, bad, 8, &v, 4, -1);
    expect_load_error(bad, "version 2");
    uint32_t be = 0x04030201;
    patched_copy(good, bad, 12, &be, 4, -1);
    expect_load_error(bad, "byte order");
    int32_t rows = 1000000;
    patched_copy(good, bad, 32, &rows, 4, -1);
    expect_load_error(bad, "rows");
    int32_t dim = 0;
    patched_copy(good, bad, 36, &dim, 4, -1);
    expect_load_error(bad, "dims");
    uint32_t flags = 0x80;
    patched_copy(good, bad, 44, &flags, 4, -1);
    expect_load_error(bad, "flags");
    uint64_t off = 4096 + 17;
    patched_copy(good, bad, 48, &off, 8, -1);
    expect_load_error(bad, "page-aligned");
    off = 1u << 30;
    patched_copy(good, bad, 48, &off, 8, -1);
    expect_load_error(bad, "truncated");
    off = 4096; /* output section on top of the input section */
    patched_copy(good, bad, 56, &off, 8, -1);
    expect_load_error(bad, "overlaps");
    /* the id table: an item index out of range, then a duplicate */
    uint64_t rowitem;
    {
        FILE *f = fopen(good, "rb");
        fseek(f, 72, SEEK_SET);
        if (fread(&rowitem, 8, 1, f) != 1)
            test_fail_at(__FILE__, __LINE__, "read header");
        fclose(f);
    }
    int32_t it = 7;
    patched_copy(good, bad, (long)rowitem, &it, 4, -1);
    expect_load_error(bad, "item index 7");
    it = 0;
    patched_copy(good, bad, (long)rowitem, &it, 4, -1);
    expect_load_error(bad, "appears in rows");
    /* external ids: a NUL too many */
    patched_copy(good, bad, size - 2, "\0", 1, -1);
    expect_load_error(bad, "stray bytes");
    /* a directory is not a model */
    CHECK_EQ_INT(rs_model_load(dir, &l, &e), RS_EDATA);
    CHECK(l == NULL);
}

static void test_registry(void)
{
    const char *dir = test_tmpdir();
    char db[512];
    snprintf(db, sizeof db, "%s/r.db", dir);
    rs_store *s = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_store_open(db, RS_STORE_CREATE, &s, &e), RS_OK);
    if (!s)
        return;
    rs_model_info info;
    CHECK_EQ_INT(rs_registry_active(s, 0, "product", "all", &info, &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "no active product model") != NULL);

    char p1[1024], p2[1024], p3[1024];
    CHECK_EQ_INT(rs_model_new_path(s, 0, "product", "all", p1, sizeof p1, &e), RS_OK);
    CHECK(p1[0] == '/' && strstr(p1, "r-models/product-c0-all-") != NULL);
    rs_embedding *m = toy(1);
    CHECK_EQ_INT(rs_model_save(p1, m, "product", IDS, NULL, &e), RS_OK);
    CHECK_EQ_INT(rs_model_new_path(s, 0, "product", "all", p2, sizeof p2, &e), RS_OK);
    CHECK(strcmp(p1, p2) != 0); /* a fresh name even within the same second */
    m->in[0] = 42.0f;
    CHECK_EQ_INT(rs_model_save(p2, m, "product", IDS, NULL, &e), RS_OK);
    CHECK_EQ_INT(rs_model_new_path(s, 2, "category", "all", p3, sizeof p3, &e), RS_OK);
    CHECK_EQ_INT(rs_model_save(p3, m, "category", IDS, NULL, &e), RS_OK);

    int64_t id1 = 0, id2 = 0, id3 = 0;
    CHECK_EQ_INT(rs_registry_add(s, 0, "product", "all", p1, "{\"dim\":3}", NULL, "fp1", 1.0,
                                 1, &id1, &e), RS_OK);
    CHECK_EQ_INT(rs_registry_active(s, 0, "product", "all", &info, &e), RS_OK);
    CHECK_EQ_INT(info.id, id1);
    CHECK_STR(info.path, p1);
    /* a second active model replaces the first in one transaction */
    CHECK_EQ_INT(rs_registry_add(s, 0, "product", "all", p2, NULL, "{\"hr\":1}", NULL, 2.0, 1,
                                 &id2, &e), RS_OK);
    CHECK_EQ_INT(rs_registry_active(s, 0, "product", "all", &info, &e), RS_OK);
    CHECK_EQ_INT(info.id, id2);
    CHECK_NEAR(info.seconds, 2.0, 0);
    /* an inactive registration leaves the active one alone */
    CHECK_EQ_INT(rs_registry_add(s, 0, "product", "train", p1, NULL, NULL, NULL, 0, 0, &id3,
                                 &e), RS_OK);
    CHECK_EQ_INT(rs_registry_active(s, 0, "product", "train", &info, &e), RS_EUSAGE);
    sqlite3_stmt *st;
    int n_active = -1;
    sqlite3_prepare_v2(rs_store_db(s),
                       "SELECT count(*) FROM models WHERE active AND kind='product' AND"
                       " split='all' AND city_id=0", -1, &st, NULL);
    if (sqlite3_step(st) == SQLITE_ROW)
        n_active = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    CHECK_EQ_INT(n_active, 1);

    /* inside a caller's transaction (savepoint), and rolled back with it */
    CHECK_EQ_INT(rs_store_begin(s, &e), RS_OK);
    int64_t id4 = 0;
    CHECK_EQ_INT(rs_registry_add(s, 0, "product", "all", p1, NULL, NULL, NULL, 0, 1, &id4, &e),
                 RS_OK);
    rs_store_rollback(s);
    CHECK_EQ_INT(rs_registry_active(s, 0, "product", "all", &info, &e), RS_OK);
    CHECK_EQ_INT(info.id, id2);

    /* load with fallback: city 5 has none, so all cities answers */
    rs_embedding *l = NULL;
    int64_t used = -1;
    CHECK_EQ_INT(rs_registry_load_active(s, 5, "product", "all", &l, &used, &info, &e), RS_OK);
    CHECK_EQ_INT(used, 0);
    if (l)
        CHECK_NEAR(l->in[0], 42.0, 0);
    rs_embedding_free(l);
    l = NULL;
    CHECK_EQ_INT(rs_registry_load_active(s, 5, "category", "all", &l, &used, NULL, &e),
                 RS_EUSAGE);
    /* city 2 has its own */
    int64_t id5 = 0;
    CHECK_EQ_INT(rs_registry_add(s, 2, "category", "all", p3, NULL, NULL, NULL, 0, 1, &id5, &e),
                 RS_OK);
    CHECK_EQ_INT(rs_registry_load_active(s, 2, "category", "all", &l, &used, &info, &e), RS_OK);
    CHECK_EQ_INT(used, 2);
    CHECK_EQ_INT(info.id, id5);
    rs_embedding_free(l);
    l = NULL;
    /* a registry row whose file says another kind */
    CHECK_EQ_INT(rs_registry_add(s, 0, "ease", "all", p1, NULL, NULL, NULL, 0, 1, NULL, &e),
                 RS_OK);
    CHECK_EQ_INT(rs_registry_load_active(s, 0, "ease", "all", &l, NULL, NULL, &e), RS_EDATA);
    CHECK(strstr(e.msg, "holds a product model") != NULL);
    /* a registered file that vanished */
    unlink(p2);
    CHECK(rs_registry_load_active(s, 0, "product", "all", &l, NULL, NULL, &e) != RS_OK);
    CHECK(strstr(e.msg, p2) != NULL);
    CHECK(l == NULL);
    rs_embedding_free(m);
    rs_store_close(s);
}

/* Issue 11 item 3: a model file rewritten in place while loaded (`cp backup.rsm
 * active.rsm` truncates it first) raised SIGBUS at the next touch of the mapping.  The
 * loader now reads into private memory: the loaded model keeps its values whatever
 * happens to the file. */
static void i11_03_model_rewritten_in_place(void)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/active.rsm", dir);
    rs_embedding *m = toy(1);
    rs_error e = {0};
    CHECK_EQ_INT(rs_model_save(path, m, RS_KIND_PRODUCT, IDS, NULL, &e), RS_OK);
    rs_embedding *l = NULL;
    CHECK_EQ_INT(rs_model_load(path, &l, &e), RS_OK);
    /* what cp does: open with O_TRUNC, then write the other file's bytes */
    int fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, "RSCOPEM1", 8) == 8);
        close(fd);
    }
    if (l) {
        /* with a shared or private file mapping each of these reads is a SIGBUS */
        CHECK(memcmp(l->in, m->in, 9 * sizeof(float)) == 0);
        CHECK(l->out && memcmp(l->out, m->out, 9 * sizeof(float)) == 0);
        CHECK(l->counts && l->counts[1] == 99);
        CHECK_EQ_INT(l->row_item[2], 2);
        CHECK_STR(l->ext_ids[0], "p-four");
    }
    rs_embedding_free(l);
    /* the half-written file itself is refused with the reason, not served */
    expect_load_error(path, "truncated model file");
    rs_embedding_free(m);
}

/* Issue 11 item 7: NaN (or infinity) in a model file was served as "nan" scores.  The
 * loader checks every value once; the message names the file, the row, its id, the
 * matrix and the value.  Saving such a model is refused too. */
static void i11_07_nonfinite_model_refused(void)
{
    const char *dir = test_tmpdir();
    char good[512], bad[512];
    snprintf(good, sizeof good, "%s/good.rsm", dir);
    snprintf(bad, sizeof bad, "%s/nan.rsm", dir);
    rs_embedding *m = toy(1);
    rs_error e = {0};
    CHECK_EQ_INT(rs_model_save(good, m, RS_KIND_PRODUCT, IDS, NULL, &e), RS_OK);
    float nan = NAN, inf = INFINITY;
    /* input matrix at 4096: row 1, value 2 */
    patched_copy(good, bad, 4096 + 4 * 4, &nan, 4, -1);
    expect_load_error(bad, "corrupt model file: non-finite value in row 1 (id \"p0\") of the "
                           "input matrix: value 2 is NaN");
    /* output matrix at 8192: row 2, value 3 */
    patched_copy(good, bad, 8192 + 8 * 4, &inf, 4, -1);
    expect_load_error(bad, "row 2 (id \"\xc3\xa9t\xc3\xa9\") of the output matrix: value 3 is "
                           "infinite");
    /* never written in the first place */
    char never[512];
    snprintf(never, sizeof never, "%s/never.rsm", dir);
    m->out[4] = NAN;
    CHECK_EQ_INT(rs_model_save(never, m, RS_KIND_PRODUCT, IDS, NULL, &e), RS_EDATA);
    CHECK(strstr(e.msg, "refusing to save") && strstr(e.msg, "value 2 is NaN"));
    CHECK(access(never, F_OK) != 0);
    m->out[4] = 0;
    rs_embedding_free(m);
}

/* Issue 11 item 6, the second line of defence: the publisher refuses a model with
 * non-finite values, writes nothing and keeps the previous active model. */
static void i11_06_publish_refuses_nonfinite(void)
{
    const char *dir = test_tmpdir();
    char db[512];
    snprintf(db, sizeof db, "%s/p.db", dir);
    rs_store *s = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_store_open(db, RS_STORE_CREATE, &s, &e), RS_OK);
    if (!s)
        return;
    rs_embedding *m = toy(1);
    rs_publish p = {.city_id = 0, .kind = RS_KIND_ALS, .params_json = "{\"als_factors\":3}",
                    .activate = 1, .ext_ids = IDS};
    int64_t id1 = 0, id2 = 0;
    char path[1024] = "";
    CHECK_EQ_INT(rs_model_publish(s, m, &p, &id1, path, sizeof path, &e), RS_OK);
    CHECK(strstr(path, "-models/als-c0-all-") != NULL);
    m->in[3] = NAN;
    CHECK_EQ_INT(rs_model_publish(s, m, &p, &id2, NULL, 0, &e), RS_EDATA);
    CHECK(strstr(e.msg, "refusing to register") && strstr(e.msg, "active one stays"));
    rs_model_info info;
    CHECK_EQ_INT(rs_registry_active(s, 0, RS_KIND_ALS, "all", &info, &e), RS_OK);
    CHECK_EQ_INT(info.id, id1);
    int64_t n = -1;
    CHECK_EQ_INT(rs_store_count(s, "models", &n, &e), RS_OK);
    CHECK_EQ_INT(n, 1);
    rs_embedding_free(m);
    rs_store_close(s);
}

/* Issue 11 item 3, the cost side: private copies are made once per process.  Two loads
 * of the same unchanged file share one read-only block (the batch's workers each open
 * the completion models); a file rewritten since is read again; the block is read-only
 * like the mapping was (a stray write faults instead of changing a shared model). */
static void i11_03_model_bytes_shared_once(void)
{
    const char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/shared.rsm", dir);
    rs_embedding *m = toy(1);
    rs_error e = {0};
    CHECK_EQ_INT(rs_model_save(path, m, RS_KIND_PRODUCT, IDS, NULL, &e), RS_OK);
    rs_embedding *a = NULL, *b = NULL, *c = NULL;
    CHECK_EQ_INT(rs_model_load(path, &a, &e), RS_OK);
    CHECK_EQ_INT(rs_model_load(path, &b, &e), RS_OK);
    if (a && b) {
        CHECK(a->block == b->block && a->in == b->in);
        CHECK(a->item_row != b->item_row); /* per-instance index */
    }
    rs_embedding_free(a);
    if (b)
        CHECK_NEAR(b->in[4], m->in[4], 0); /* still valid after the other was freed */
    /* rewritten (a new file renamed over it): read again, the old block lives on */
    m->in[4] = 7.5f;
    CHECK_EQ_INT(rs_model_save(path, m, RS_KIND_PRODUCT, IDS, NULL, &e), RS_OK);
    CHECK_EQ_INT(rs_model_load(path, &c, &e), RS_OK);
    if (b && c) {
        CHECK(c->block != b->block);
        CHECK_NEAR(c->in[4], 7.5, 0);
        CHECK(b->in[4] != 7.5f);
    }
    /* read-only: a write in a child faults */
    if (c) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGSEGV, SIG_DFL);
            ((volatile float *)c->in)[0] = 1.0f;
            _exit(0);
        }
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        /* killed by the fault (or, under ASan, reported and exited non-zero) */
        CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    rs_embedding_free(b);
    rs_embedding_free(c);
    rs_embedding_free(m);
}

/* Issue 12 item 6: which models an evaluation measured, and when it goes stale; the
 * listing, activation and pruning of the registry (the CLI side: test_models_cli.sh). */
static void i12_06_model_history(void)
{
    const char *dir = test_tmpdir();
    char db[512];
    snprintf(db, sizeof db, "%s/h.db", dir);
    rs_store *s = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_store_open(db, RS_STORE_CREATE, &s, &e), RS_OK);
    if (!s)
        return;
    rs_embedding *m = toy(1);
    rs_publish p = {.city_id = 0, .kind = RS_KIND_PRODUCT, .metrics_json = "{\"hr@10\":0.25}",
                    .activate = 1, .ext_ids = IDS};
    int64_t a = 0, b = 0, c = 0, use = -1;
    char pa[1024], pb[1024];
    CHECK_EQ_INT(rs_model_publish(s, m, &p, &a, pa, sizeof pa, &e), RS_OK);
    CHECK_EQ_INT(rs_model_publish(s, m, &p, &b, pb, sizeof pb, &e), RS_OK);
    p.city_id = 0;
    p.activate = 0;
    CHECK_EQ_INT(rs_model_publish(s, m, &p, &c, NULL, 0, &e), RS_OK);
    /* in use: the city's own, else all cities' */
    CHECK_EQ_INT(rs_registry_in_use(s, 7, RS_KIND_PRODUCT, &use, &e), RS_OK);
    CHECK_EQ_INT(use, b);
    CHECK_EQ_INT(rs_registry_in_use(s, 7, RS_KIND_EASE, &use, &e), RS_OK);
    CHECK_EQ_INT(use, 0);
    static const char *const kinds[] = {RS_KIND_PRODUCT, RS_KIND_EASE, NULL};
    char *mj = NULL, want[64];
    CHECK_EQ_INT(rs_registry_models_json(s, 7, kinds, &mj, &e), RS_OK);
    snprintf(want, sizeof want, "{\"product\":%lld}", (long long)b);
    CHECK_STR(mj, want);
    /* an evaluation recorded with it: current, then stale when another serves */
    CHECK_EQ_INT(rs_evaluations_models_column(s, &e), RS_OK);
    CHECK_EQ_INT(rs_evaluations_models_column(s, &e), RS_OK); /* twice is fine */
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO evaluations(city_id, method, split, metrics, models,"
             " created_at) VALUES (0, 'sgns in.out', 'hash-test', '{\"hr@10\":0.5}', '%s',"
             " 'now')", mj);
    CHECK_EQ_INT(rs_store_exec(s, sql, &e), RS_OK);
    int stale = -1;
    CHECK_EQ_INT(rs_evaluation_stale(s, 0, mj, &stale, &e), RS_OK);
    CHECK_EQ_INT(stale, 0);
    CHECK_EQ_INT(rs_evaluation_stale(s, 0, NULL, &stale, &e), RS_OK); /* baselines */
    CHECK_EQ_INT(stale, 0);
    int64_t prev = 0;
    rs_model_info info;
    CHECK_EQ_INT(rs_registry_activate(s, a, &info, &prev, &e), RS_OK);
    CHECK_EQ_INT(prev, b);
    CHECK_EQ_INT(rs_evaluation_stale(s, 0, mj, &stale, &e), RS_OK);
    CHECK_EQ_INT(stale, 1);
    rs_model_list l;
    CHECK_EQ_INT(rs_registry_list(s, 0, RS_KIND_PRODUCT, &l, &e), RS_OK);
    CHECK_EQ_INT(l.n, 3);
    if (l.n == 3) {
        CHECK_EQ_INT(l.rows[0].info.id, c); /* newest first */
        CHECK_EQ_INT(l.rows[1].info.id, b);
        CHECK(l.rows[1].eval_id > 0 && l.rows[1].eval_stale == 1);
        CHECK(l.rows[1].eval_metrics && strstr(l.rows[1].eval_metrics, "0.5"));
        CHECK(l.rows[2].active && l.rows[2].eval_id == 0);
        CHECK_STR(l.rows[2].city_name, "all cities");
        CHECK(l.rows[2].metrics && strstr(l.rows[2].metrics, "0.25"));
    }
    rs_model_list_free(&l);
    /* prune keeps the newest (c) and the active one (a): b goes, file and sidecar */
    rs_prune_result r;
    CHECK_EQ_INT(rs_registry_prune(s, -1, NULL, 1, 0, &r, &e), RS_OK);
    CHECK_EQ_INT(r.rows, 1);
    CHECK_EQ_INT(r.files, 1);
    CHECK(access(pb, F_OK) != 0);
    char side[1100];
    snprintf(side, sizeof side, "%s.json", pb);
    CHECK(access(side, F_OK) != 0 && access(pa, F_OK) == 0);
    CHECK_EQ_INT(rs_registry_active(s, 0, RS_KIND_PRODUCT, "all", &info, &e), RS_OK);
    CHECK_EQ_INT(info.id, a);
    CHECK_EQ_INT(rs_registry_prune(s, -1, NULL, 0, 0, &r, &e), RS_EUSAGE);
    /* a registered file outside the models directory: the row goes, the file stays */
    char outside[512];
    snprintf(outside, sizeof outside, "%s/outside.rsm", dir);
    p.path = outside;
    p.activate = 0;
    CHECK_EQ_INT(rs_model_publish(s, m, &p, NULL, NULL, 0, &e), RS_OK);
    p.path = NULL;
    CHECK_EQ_INT(rs_model_publish(s, m, &p, NULL, NULL, 0, &e), RS_OK);
    CHECK_EQ_INT(rs_registry_prune(s, 0, RS_KIND_PRODUCT, 1, 0, &r, &e), RS_OK);
    CHECK(r.rows == 2 && r.kept_outside == 1 && access(outside, F_OK) == 0);
    CHECK_EQ_INT(rs_registry_activate(s, 424242, &info, NULL, &e), RS_EUSAGE);
    free(mj);
    rs_embedding_free(m);
    rs_store_close(s);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: blocked opening a FIFO\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
}

/* Issue 11 item 12: a registered model path that is a FIFO blocked the loader in
 * open(2).  It is opened with O_NONBLOCK and refused by its type. */
static void i11_12_model_path_fifo(void)
{
    const char *dir = test_tmpdir();
    char fifo[512], db[512];
    snprintf(fifo, sizeof fifo, "%s/fifo.rsm", dir);
    snprintf(db, sizeof db, "%s/f.db", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    signal(SIGALRM, on_alarm);
    alarm(20);
    rs_embedding *l = NULL;
    rs_error e = {0};
    CHECK_EQ_INT(rs_model_load(fifo, &l, &e), RS_EDATA);
    CHECK(strstr(e.msg, fifo) && strstr(e.msg, "a FIFO"));
    CHECK_EQ_INT(rs_model_load("/dev/null", &l, &e), RS_EDATA);
    CHECK(strstr(e.msg, "not a regular file") != NULL);
    rs_store *s = NULL;
    CHECK_EQ_INT(rs_store_open(db, RS_STORE_CREATE, &s, &e), RS_OK);
    if (s) {
        CHECK_EQ_INT(rs_registry_add(s, 0, "product", "all", fifo, NULL, NULL, NULL, 0, 1,
                                     NULL, &e), RS_OK);
        CHECK_EQ_INT(rs_registry_load_active(s, 0, "product", "all", &l, NULL, NULL, &e),
                     RS_EDATA);
        CHECK(strstr(e.msg, "a FIFO") != NULL);
        rs_store_close(s);
    }
    alarm(0);
    CHECK(l == NULL);
}

int main(void)
{
    test_round_trip();
    test_corrupt_files();
    test_registry();
    i11_03_model_rewritten_in_place();
    i11_03_model_bytes_shared_once();
    i11_06_publish_refuses_nonfinite();
    i11_07_nonfinite_model_refused();
    i11_12_model_path_fifo();
    i12_06_model_history();
    return test_summary();
}

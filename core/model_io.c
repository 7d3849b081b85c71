/* model_io.c - model files: written through core/atomicfile.h, read into private memory.
 *
 * The layout is described in model.h.  The header is a fixed little-endian record at
 * the start of the first page:
 *
 *   0   magic "RSCOPEM1"          8 bytes
 *   8   version                   u32 (RS_MODEL_VERSION)
 *   12  endianness mark           u32 0x01020304 as written by the host
 *   16  kind                      16 bytes, NUL-padded
 *   32  rows, dim, n_items        3 x i32
 *   44  flags                     u32: 1 input, 2 output, 4 counts
 *   48  offsets of input, output, counts, row items, external ids   5 x u64
 *   88  length of the external-id block                              u64
 *   96  total file length                                            u64
 *
 * Every section starts on a 4096-byte boundary, so the float matrices can be used in
 * place from the file's bytes.  The loader trusts nothing: every offset and size is
 * checked against the file length before anything is dereferenced, and every value of
 * the matrices must be finite.
 *
 * Loading reads the whole file into private read-only memory (core/readfile.h) instead
 * of mapping it: a mapping of a file that another process truncates or rewrites in
 * place (`cp backup.rsm active.rsm`) raises SIGBUS at the next touch of a vanished
 * page, in the middle of a batch or under the TUI.  Private memory cannot vanish; a
 * file that changes while it is read is detected (fstat before and after) and
 * refused.  The bytes of a file are read once per process and shared (below).
 */
#include "model.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "readfile.h"

#define PAGE 4096u
#define ENDIAN_MARK 0x01020304u
#define F_IN 1u
#define F_OUT 2u
#define F_COUNTS 4u

enum { H_MAGIC = 0, H_VERSION = 8, H_ENDIAN = 12, H_KIND = 16, H_ROWS = 32, H_DIM = 36,
       H_NITEMS = 40, H_FLAGS = 44, H_OFF = 48, H_EXTLEN = 88, H_FILELEN = 96, H_END = 104 };

static const char MAGIC[8] = {'R', 'S', 'C', 'O', 'P', 'E', 'M', '1'};

static uint64_t align_up(uint64_t x) { return (x + PAGE - 1) / PAGE * PAGE; }

static void put32(unsigned char *h, int at, uint32_t v) { memcpy(h + at, &v, 4); }
static void put64(unsigned char *h, int at, uint64_t v) { memcpy(h + at, &v, 8); }
static uint32_t get32(const unsigned char *h, int at)
{
    uint32_t v;
    memcpy(&v, h + at, 4);
    return v;
}
static uint64_t get64(const unsigned char *h, int at)
{
    uint64_t v;
    memcpy(&v, h + at, 8);
    return v;
}

/* Writes n bytes, then zero padding up to the aligned end. */
static int write_section(FILE *f, const void *data, uint64_t n, int pad)
{
    if (n && fwrite(data, 1, (size_t)n, f) != (size_t)n)
        return -1;
    if (pad) {
        static const char zeros[PAGE];
        uint64_t p = align_up(n) - n;
        if (p && fwrite(zeros, 1, (size_t)p, f) != (size_t)p)
            return -1;
    }
    return 0;
}

static void iso_now(char *buf, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *rs_model_sidecar(int64_t city_id, const char *split, const char *params_json,
                       const char *metrics_json, const char *fingerprint, double seconds)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "city", (double)city_id);
    cJSON_AddStringToObject(o, "split", split ? split : "all");
    cJSON *pj = params_json ? cJSON_Parse(params_json) : NULL;
    cJSON_AddItemToObject(o, "params", pj ? pj : cJSON_CreateObject());
    cJSON *mj = metrics_json ? cJSON_Parse(metrics_json) : NULL;
    cJSON_AddItemToObject(o, "metrics", mj ? mj : cJSON_CreateObject());
    cJSON_AddStringToObject(o, "fingerprint", fingerprint ? fingerprint : "");
    cJSON_AddNumberToObject(o, "seconds", seconds);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* The sidecar text: the caller's object plus what the file itself knows. */
static int sidecar_text(const char *path, const rs_embedding *m, const char *kind,
                        const char *sidecar_json, char **out, rs_error *e)
{
    cJSON *o = sidecar_json ? cJSON_Parse(sidecar_json) : cJSON_CreateObject();
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return rs_seterr(e, RS_EUSAGE, "%s: the sidecar text is not a JSON object", path);
    }
    char now[32];
    iso_now(now, sizeof now);
    cJSON_DeleteItemFromObject(o, "kind");
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON_DeleteItemFromObject(o, "rows");
    cJSON_AddNumberToObject(o, "rows", m->rows);
    cJSON_DeleteItemFromObject(o, "dim");
    cJSON_AddNumberToObject(o, "dim", m->dim);
    cJSON_DeleteItemFromObject(o, "has_output");
    cJSON_AddBoolToObject(o, "has_output", m->out != NULL);
    cJSON_DeleteItemFromObject(o, "format_version");
    cJSON_AddNumberToObject(o, "format_version", RS_MODEL_VERSION);
    if (!cJSON_HasObjectItem(o, "created_at"))
        cJSON_AddStringToObject(o, "created_at", now);
    *out = cJSON_Print(o);
    cJSON_Delete(o);
    if (!*out)
        return rs_seterr(e, RS_EINTERNAL, "out of memory writing %s.json", path);
    return RS_OK;
}

/* The header page of m's file and the section layout; *file_len receives the total. */
static void build_header(unsigned char *h, const rs_embedding *m, const char *kind,
                         uint64_t ext_len, uint64_t *file_len)
{
    uint32_t flags = F_IN | (m->out ? F_OUT : 0) | (m->counts ? F_COUNTS : 0);
    uint64_t mat = (uint64_t)m->rows * (uint64_t)m->dim * sizeof(float);
    uint64_t off_in = PAGE;
    uint64_t off_out = m->out ? off_in + align_up(mat) : 0;
    uint64_t next = (m->out ? off_out : off_in) + align_up(mat);
    uint64_t off_counts = m->counts ? next : 0;
    if (m->counts)
        next += align_up((uint64_t)m->rows * sizeof(int64_t));
    uint64_t off_rowitem = next;
    next += align_up((uint64_t)m->rows * sizeof(int32_t));
    uint64_t off_ext = next;
    *file_len = off_ext + ext_len;

    memset(h, 0, PAGE);
    memcpy(h + H_MAGIC, MAGIC, 8);
    put32(h, H_VERSION, RS_MODEL_VERSION);
    put32(h, H_ENDIAN, ENDIAN_MARK);
    memcpy(h + H_KIND, kind, strlen(kind));
    put32(h, H_ROWS, (uint32_t)m->rows);
    put32(h, H_DIM, (uint32_t)m->dim);
    put32(h, H_NITEMS, (uint32_t)m->n_items);
    put32(h, H_FLAGS, flags);
    put64(h, H_OFF + 0, off_in);
    put64(h, H_OFF + 8, off_out);
    put64(h, H_OFF + 16, off_counts);
    put64(h, H_OFF + 24, off_rowitem);
    put64(h, H_OFF + 32, off_ext);
    put64(h, H_EXTLEN, ext_len);
    put64(h, H_FILELEN, *file_len);
}

/* The external-id block: every id NUL-terminated, in row order. */
static int ext_block(const char *path, const rs_embedding *m, const char *const *ext_ids,
                     char **out, uint64_t *len, rs_error *e)
{
    uint64_t n = 0;
    for (int32_t r = 0; r < m->rows; r++) {
        if (!ext_ids || !ext_ids[r] || !ext_ids[r][0])
            return rs_seterr(e, RS_EUSAGE, "%s: row %d has no external id", path, r);
        n += strlen(ext_ids[r]) + 1;
    }
    char *ext = malloc((size_t)n + 1);
    if (!ext)
        return rs_seterr(e, RS_EINTERNAL, "out of memory saving %s", path);
    uint64_t at = 0;
    for (int32_t r = 0; r < m->rows; r++) {
        size_t k = strlen(ext_ids[r]) + 1;
        memcpy(ext + at, ext_ids[r], k);
        at += k;
    }
    *out = ext;
    *len = n;
    return RS_OK;
}

int rs_model_save(const char *path, const rs_embedding *m, const char *kind,
                  const char *const *ext_ids, const char *sidecar_json, rs_error *e)
{
    int rc = RS_OK;
    char *jpath = NULL, *json = NULL, *ext = NULL;
    rs_afile *mf = NULL, *jf = NULL;

    if (!kind || !*kind || strlen(kind) >= 16)
        return rs_seterr(e, RS_EUSAGE, "%s: model kind must be 1..15 characters", path);
    if (m->rows < 1 || m->dim < 1 || m->n_items < m->rows || !m->in || !m->row_item)
        return rs_seterr(e, RS_EUSAGE, "%s: refusing to save an empty or malformed model "
                         "(%d rows, %d dims)", path, m->rows, m->dim);
    {
        char what[1200];
        snprintf(what, sizeof what, "%s: refusing to save the model", path);
        if ((rc = rs_embedding_check_finite(m, what, e)))
            return rc;
    }
    size_t plen = strlen(path);
    if (!(jpath = malloc(plen + 6)))
        return rs_seterr(e, RS_EINTERNAL, "out of memory saving %s", path);
    snprintf(jpath, plen + 6, "%s.json", path);
    uint64_t ext_len = 0, file_len = 0;
    unsigned char h[PAGE];
    if ((rc = ext_block(path, m, ext_ids, &ext, &ext_len, e)) ||
        (rc = sidecar_text(path, m, kind, sidecar_json, &json, e)))
        goto done;
    build_header(h, m, kind, ext_len, &file_len);
    uint64_t mat = (uint64_t)m->rows * (uint64_t)m->dim * sizeof(float);

    /* both targets are checked (regular files only) before anything is written */
    if ((rc = rs_afile_open(path, &mf, e)) || (rc = rs_afile_open(jpath, &jf, e)))
        goto done;
    FILE *f = rs_afile_stream(mf);
    if (write_section(f, h, PAGE, 0) || write_section(f, m->in, mat, 1) ||
        (m->out && write_section(f, m->out, mat, 1)) ||
        (m->counts && write_section(f, m->counts, (uint64_t)m->rows * 8, 1)) ||
        write_section(f, m->row_item, (uint64_t)m->rows * 4, 1) ||
        write_section(f, ext, ext_len, 0)) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: write failed: %s", rs_afile_tmp_path(mf),
                       strerror(errno));
        goto done;
    }
    if (fputs(json, rs_afile_stream(jf)) < 0 || fputc('\n', rs_afile_stream(jf)) == EOF) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: write failed: %s", rs_afile_tmp_path(jf),
                       strerror(errno));
        goto done;
    }
    /* the sidecar first: a model file never exists without its sidecar */
    rc = rs_afile_commit(jf, e);
    jf = NULL;
    if (rc)
        goto done;
    rc = rs_afile_commit(mf, e);
    mf = NULL;
done:
    rs_afile_abort(mf);
    rs_afile_abort(jf);
    free(jpath);
    free(json);
    free(ext);
    return rc;
}

/* Checks that [off, off + len) is a page-aligned section after `after` inside the file. */
static int check_section(const char *path, const char *name, uint64_t off, uint64_t len,
                         uint64_t after, uint64_t file_len, rs_error *e)
{
    if (off % PAGE != 0)
        return rs_seterr(e, RS_EDATA, "%s: corrupt model file: %s section at offset %" PRIu64
                         " is not page-aligned", path, name, off);
    if (off < after)
        return rs_seterr(e, RS_EDATA, "%s: corrupt model file: %s section at offset %" PRIu64
                         " overlaps the previous section", path, name, off);
    if (off > file_len || len > file_len - off)
        return rs_seterr(e, RS_EDATA, "%s: truncated model file: %s section needs bytes %" PRIu64
                         "..%" PRIu64 " but the file has %" PRIu64, path, name, off, off + len,
                         file_len);
    return RS_OK;
}

/* The layout from the header, checked against the file length. */
typedef struct layout {
    char kind[17];
    int32_t rows, dim, n_items;
    uint32_t flags;
    uint64_t off_in, off_out, off_counts, off_rowitem, off_ext, ext_len;
} layout;

static int check_header(const char *path, const unsigned char *h, uint64_t file_len,
                        layout *L, rs_error *e)
{
    int rc;
    if (memcmp(h + H_MAGIC, MAGIC, 8) != 0)
        return rs_seterr(e, RS_EDATA, "%s: not a recoscope model file (bad magic)", path);
    uint32_t endian = get32(h, H_ENDIAN);
    if (endian != ENDIAN_MARK)
        return rs_seterr(e, RS_EDATA, "%s: %s (endianness mark 0x%08x, expected 0x%08x)", path,
                         endian == 0x04030201u ? "written on a machine of the other byte order"
                                               : "corrupt model file",
                         endian, ENDIAN_MARK);
    uint32_t version = get32(h, H_VERSION);
    if (version != RS_MODEL_VERSION)
        return rs_seterr(e, RS_EDATA, "%s: model format version %u, this program reads %d",
                         path, version, RS_MODEL_VERSION);
    memcpy(L->kind, h + H_KIND, 16);
    L->kind[16] = 0;
    L->rows = (int32_t)get32(h, H_ROWS);
    L->dim = (int32_t)get32(h, H_DIM);
    L->n_items = (int32_t)get32(h, H_NITEMS);
    L->flags = get32(h, H_FLAGS);
    if (!L->kind[0] || strlen(L->kind) > 15)
        return rs_seterr(e, RS_EDATA, "%s: corrupt model file: bad kind field", path);
    /* n_items (the size of the index space, products of the catalogue) is not backed by
     * data in the file, and the loader allocates a table of that size: bound it so a
     * corrupt header cannot ask for gigabytes.  2^26 products is far beyond any
     * catalogue this tool serves. */
    if (L->n_items > RS_MODEL_MAX_ITEMS)
        return rs_seterr(e, RS_EDATA, "%s: header claims %d items, more than the %d a model "
                         "may index (corrupt file?)", path, L->n_items, RS_MODEL_MAX_ITEMS);
    if (L->rows < 1 || L->dim < 1 || L->dim > 65536 || L->n_items < L->rows)
        return rs_seterr(e, RS_EDATA, "%s: corrupt model file: %d rows, %d dims, %d items",
                         path, L->rows, L->dim, L->n_items);
    if ((L->flags & ~(F_IN | F_OUT | F_COUNTS)) || !(L->flags & F_IN))
        return rs_seterr(e, RS_EDATA, "%s: corrupt model file: unknown flags 0x%x", path,
                         L->flags);
    uint64_t hdr_len = get64(h, H_FILELEN);
    if (hdr_len != file_len)
        return rs_seterr(e, RS_EDATA, "%s: %s model file: the header says %" PRIu64
                         " bytes, the file has %" PRIu64, path,
                         hdr_len > file_len ? "truncated" : "corrupt", hdr_len, file_len);
    L->off_in = get64(h, H_OFF);
    L->off_out = get64(h, H_OFF + 8);
    L->off_counts = get64(h, H_OFF + 16);
    L->off_rowitem = get64(h, H_OFF + 24);
    L->off_ext = get64(h, H_OFF + 32);
    L->ext_len = get64(h, H_EXTLEN);
    uint64_t mat = (uint64_t)L->rows * (uint64_t)L->dim * 4, rows = (uint64_t)L->rows;
    uint64_t after = PAGE;
    if ((rc = check_section(path, "input", L->off_in, mat, after, file_len, e)))
        return rc;
    after = L->off_in + mat;
    if (L->flags & F_OUT) {
        if ((rc = check_section(path, "output", L->off_out, mat, after, file_len, e)))
            return rc;
        after = L->off_out + mat;
    }
    if (L->flags & F_COUNTS) {
        if ((rc = check_section(path, "counts", L->off_counts, rows * 8, after, file_len, e)))
            return rc;
        after = L->off_counts + rows * 8;
    }
    if ((rc = check_section(path, "id table", L->off_rowitem, rows * 4, after, file_len, e)))
        return rc;
    after = L->off_rowitem + rows * 4;
    return check_section(path, "external ids", L->off_ext, L->ext_len, after, file_len, e);
}

/* item_row from row_item (every index in range, none twice) and the ext id table. */
static int build_index(const char *path, rs_embedding *m, const layout *L, rs_error *e)
{
    const unsigned char *base = m->block;
    for (int32_t i = 0; i < m->n_items; i++)
        m->item_row[i] = -1;
    for (int32_t r = 0; r < m->rows; r++) {
        int32_t it = m->row_item[r];
        if (it < 0 || it >= m->n_items)
            return rs_seterr(e, RS_EDATA, "%s: corrupt model file: row %d has item index %d "
                             "outside 0..%d", path, r, it, m->n_items - 1);
        if (m->item_row[it] >= 0)
            return rs_seterr(e, RS_EDATA, "%s: corrupt model file: item index %d appears in "
                             "rows %d and %d", path, it, m->item_row[it], r);
        m->item_row[it] = r;
    }
    const char *p = (const char *)base + L->off_ext, *end = p + L->ext_len;
    for (int32_t r = 0; r < m->rows; r++) {
        const char *z = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;
        if (!z || z == p)
            return rs_seterr(e, RS_EDATA, "%s: corrupt model file: external id of row %d "
                             "is missing or empty", path, r);
        m->ext_ids[r] = p;
        p = z + 1;
    }
    if (p != end)
        return rs_seterr(e, RS_EDATA, "%s: corrupt model file: %td stray bytes after the "
                         "external ids", path, end - p);
    return RS_OK;
}

/* ---- files loaded by this process, shared ---------------------------------------------
 *
 * The one piece of global mutable state here: the list of model files this process
 * has loaded, each file's bytes held once and shared read-only by every rs_embedding
 * loaded from the same unchanged file (same device, inode, size, modification and
 * change times).  The batch's workers each open the completion models and the
 * recommender opens the product model again: a mapping shared the page cache between
 * them, private copies would multiply the memory by the number of workers.  A file
 * rewritten or replaced since is read again.  Guarded by shared_mu; entries go when
 * their last instance is freed. */
typedef struct shared_file {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;
    void *buf;
    size_t cap;
    int refs;
    struct shared_file *next;
} shared_file;

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static shared_file *shared_files;

static int same_file(const shared_file *f, const struct stat *st)
{
    return f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
           f->mtim.tv_sec == st->st_mtim.tv_sec && f->mtim.tv_nsec == st->st_mtim.tv_nsec &&
           f->ctim.tv_sec == st->st_ctim.tv_sec && f->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* The bytes of an already loaded, unchanged file (one more reference), or NULL. */
static void *shared_get(const struct stat *st, size_t *cap)
{
    void *buf = NULL;
    pthread_mutex_lock(&shared_mu);
    for (shared_file *f = shared_files; f; f = f->next)
        if (same_file(f, st)) {
            f->refs++;
            buf = f->buf;
            *cap = f->cap;
            break;
        }
    pthread_mutex_unlock(&shared_mu);
    return buf;
}

/* Offers freshly read and checked bytes for sharing; 0 when they were kept private (an
 * equal file was published meanwhile, or out of memory). */
static int shared_put(const struct stat *st, void *buf, size_t cap)
{
    shared_file *n = calloc(1, sizeof *n);
    if (!n)
        return 0;
    *n = (shared_file){.dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
                       .mtim = st->st_mtim, .ctim = st->st_ctim, .buf = buf, .cap = cap,
                       .refs = 1};
    int put = 1;
    pthread_mutex_lock(&shared_mu);
    for (shared_file *f = shared_files; f && put; f = f->next)
        put = !same_file(f, st);
    if (put) {
        n->next = shared_files;
        shared_files = n;
    }
    pthread_mutex_unlock(&shared_mu);
    if (!put)
        free(n);
    return put;
}

static void shared_release(void *buf, size_t cap)
{
    shared_file *gone = NULL;
    pthread_mutex_lock(&shared_mu);
    for (shared_file **p = &shared_files; *p; p = &(*p)->next)
        if ((*p)->buf == buf) {
            if (--(*p)->refs == 0) {
                gone = *p;
                *p = gone->next;
            }
            break;
        }
    pthread_mutex_unlock(&shared_mu);
    if (gone) {
        rs_read_private_free(gone->buf, gone->cap);
        free(gone);
    }
    (void)cap;
}

static void private_release(void *buf, size_t cap) { rs_read_private_free(buf, cap); }

/* m over the file's bytes (the header already checked into L). */
static int embedding_over(const char *path, void *buf, size_t cap, const layout *L,
                          rs_embedding **out, rs_error *e)
{
    rs_embedding *m = calloc(1, sizeof *m);
    *out = NULL;
    if (!m)
        return rs_seterr(e, RS_EINTERNAL, "out of memory loading %s", path);
    const unsigned char *base = buf;
    m->block = buf;
    m->block_len = cap;
    m->n_items = L->n_items;
    m->rows = L->rows;
    m->dim = L->dim;
    snprintf(m->kind, sizeof m->kind, "%s", L->kind);
    m->in = (float *)(uintptr_t)(base + L->off_in);
    m->out = (L->flags & F_OUT) ? (float *)(uintptr_t)(base + L->off_out) : NULL;
    m->counts = (L->flags & F_COUNTS) ? (int64_t *)(uintptr_t)(base + L->off_counts) : NULL;
    m->row_item = (int32_t *)(uintptr_t)(base + L->off_rowitem);
    m->item_row = malloc((size_t)L->n_items * sizeof *m->item_row);
    m->ext_ids = malloc((size_t)L->rows * sizeof *m->ext_ids);
    int rc = !m->item_row || !m->ext_ids
                 ? rs_seterr(e, RS_EINTERNAL, "out of memory loading %s", path)
                 : build_index(path, m, L, e);
    if (rc) {
        m->block = NULL; /* the caller keeps the bytes */
        m->row_item = NULL;
        m->in = m->out = NULL;
        m->counts = NULL;
        rs_embedding_free(m);
        return rc;
    }
    *out = m;
    return RS_OK;
}

int rs_model_load(const char *path, rs_embedding **out, rs_error *e)
{
    int rc = RS_OK;
    int fd = -1, shared = 0;
    void *buf = NULL;
    size_t cap = 0;
    rs_embedding *m = NULL;
    struct stat st;
    layout L;
    *out = NULL;

    if ((rc = rs_open_regular(path, "model file", &fd, &st, e)))
        return rc;
    uint64_t file_len = (uint64_t)st.st_size;
    if (file_len < PAGE) {
        unsigned char head[8] = {0};
        ssize_t got = pread(fd, head, sizeof head, 0);
        if (got == 8 && memcmp(head, MAGIC, 8) != 0)
            rc = rs_seterr(e, RS_EDATA, "%s: not a recoscope model file (bad magic)", path);
        else
            rc = rs_seterr(e, RS_EDATA, "%s: truncated model file: %" PRIu64
                           " bytes, the header alone needs %u", path, file_len, PAGE);
        goto fail;
    }
    shared = (buf = shared_get(&st, &cap)) != NULL;
    if ((!shared && (rc = rs_read_private(fd, path, &st, &buf, &cap, e))) ||
        (rc = check_header(path, buf, file_len, &L, e)) ||
        (rc = embedding_over(path, buf, cap, &L, &m, e)))
        goto fail;
    /* NaN or infinity would be served as "nan" scores and scramble the order of the
     * other rows: one pass when the file is read (shared bytes passed it already) */
    if (!shared) {
        char what[1200];
        snprintf(what, sizeof what, "%s: corrupt model file", path);
        if ((rc = rs_embedding_check_finite(m, what, e)))
            goto fail;
        shared = shared_put(&st, buf, cap);
    }
    m->release = shared ? shared_release : private_release;
    close(fd);
    *out = m;
    return RS_OK;
fail:
    if (m) {
        m->release = shared ? shared_release : private_release;
        rs_embedding_free(m); /* gives buf back */
    } else if (shared) {
        shared_release(buf, cap);
    } else {
        rs_read_private_free(buf, cap);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

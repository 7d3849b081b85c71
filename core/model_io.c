/* model_io.c - model files: write (temp file, fsync, rename) and mmap-ed load.
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
 * place from the mapping.  The loader trusts nothing: every offset and size is checked
 * against the file length before anything is dereferenced.
 */
#include "model.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* Flushes a written FILE to disk and closes it; -1 on any error (the file is closed
 * either way). */
static int close_synced(FILE *f)
{
    int bad = fflush(f) != 0 || ferror(f);
    if (!bad && fsync(fileno(f)) != 0)
        bad = 1;
    if (fclose(f) != 0)
        bad = 1;
    return bad ? -1 : 0;
}

static void sync_dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
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

int rs_model_save(const char *path, const rs_embedding *m, const char *kind,
                  const char *const *ext_ids, const char *sidecar_json, rs_error *e)
{
    int rc = RS_OK;
    char *tmp = NULL, *jpath = NULL, *jtmp = NULL, *json = NULL, *ext = NULL;
    FILE *f = NULL;
    int tmp_made = 0, jtmp_made = 0;

    if (!kind || !*kind || strlen(kind) >= 16)
        return rs_seterr(e, RS_EUSAGE, "%s: model kind must be 1..15 characters", path);
    if (m->rows < 1 || m->dim < 1 || m->n_items < m->rows || !m->in || !m->row_item)
        return rs_seterr(e, RS_EUSAGE, "%s: refusing to save an empty or malformed model "
                         "(%d rows, %d dims)", path, m->rows, m->dim);
    size_t plen = strlen(path);
    tmp = malloc(plen + 5);
    jpath = malloc(plen + 6);
    jtmp = malloc(plen + 10);
    if (!tmp || !jpath || !jtmp) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory saving %s", path);
        goto done;
    }
    snprintf(tmp, plen + 5, "%s.tmp", path);
    snprintf(jpath, plen + 6, "%s.json", path);
    snprintf(jtmp, plen + 10, "%s.json.tmp", path);

    /* external ids, each NUL-terminated */
    uint64_t ext_len = 0;
    for (int32_t r = 0; r < m->rows; r++) {
        if (!ext_ids || !ext_ids[r] || !ext_ids[r][0]) {
            rc = rs_seterr(e, RS_EUSAGE, "%s: row %d has no external id", path, r);
            goto done;
        }
        ext_len += strlen(ext_ids[r]) + 1;
    }
    ext = malloc((size_t)ext_len + 1);
    if (!ext) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory saving %s", path);
        goto done;
    }
    {
        uint64_t at = 0;
        for (int32_t r = 0; r < m->rows; r++) {
            size_t n = strlen(ext_ids[r]) + 1;
            memcpy(ext + at, ext_ids[r], n);
            at += n;
        }
    }

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
    uint64_t file_len = off_ext + ext_len;

    unsigned char h[PAGE];
    memset(h, 0, sizeof h);
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
    put64(h, H_FILELEN, file_len);

    if ((rc = sidecar_text(path, m, kind, sidecar_json, &json, e)))
        goto done;

    f = fopen(tmp, "wb");
    if (!f) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot create: %s", tmp, strerror(errno));
        goto done;
    }
    tmp_made = 1;
    int bad = write_section(f, h, PAGE, 0) || write_section(f, m->in, mat, 1) ||
              (m->out && write_section(f, m->out, mat, 1)) ||
              (m->counts && write_section(f, m->counts, (uint64_t)m->rows * 8, 1)) ||
              write_section(f, m->row_item, (uint64_t)m->rows * 4, 1) ||
              write_section(f, ext, ext_len, 0);
    int err = errno;
    if (close_synced(f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    f = NULL;
    if (bad) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: write failed: %s", tmp, strerror(err));
        goto done;
    }

    FILE *jf = fopen(jtmp, "w");
    if (!jf) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot create: %s", jtmp, strerror(errno));
        goto done;
    }
    jtmp_made = 1;
    bad = fputs(json, jf) < 0 || fputc('\n', jf) == EOF;
    if (close_synced(jf) != 0 || bad) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: write failed: %s", jtmp, strerror(errno));
        goto done;
    }
    /* the sidecar first: a model file never exists without its sidecar */
    if (rename(jtmp, jpath) != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot rename to %s: %s", jtmp, jpath,
                       strerror(errno));
        goto done;
    }
    jtmp_made = 0;
    if (rename(tmp, path) != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot rename to %s: %s", tmp, path,
                       strerror(errno));
        goto done;
    }
    tmp_made = 0;
    sync_dir_of(path);
done:
    if (f)
        fclose(f);
    if (tmp_made)
        unlink(tmp);
    if (jtmp_made)
        unlink(jtmp);
    free(tmp);
    free(jpath);
    free(jtmp);
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

int rs_model_load(const char *path, rs_embedding **out, rs_error *e)
{
    int rc = RS_OK;
    int fd = -1;
    void *map = MAP_FAILED;
    size_t map_len = 0;
    rs_embedding *m = NULL;
    *out = NULL;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rs_seterr(e, errno == ENOENT ? RS_EUSAGE : RS_EINTERNAL,
                         "%s: cannot open model file: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot stat: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = rs_seterr(e, RS_EDATA, "%s: not a regular file", path);
        goto fail;
    }
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
    map_len = (size_t)file_len;
    map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot map: %s", path, strerror(errno));
        goto fail;
    }
    const unsigned char *h = map;
    if (memcmp(h + H_MAGIC, MAGIC, 8) != 0) {
        rc = rs_seterr(e, RS_EDATA, "%s: not a recoscope model file (bad magic)", path);
        goto fail;
    }
    uint32_t endian = get32(h, H_ENDIAN);
    if (endian != ENDIAN_MARK) {
        rc = rs_seterr(e, RS_EDATA, "%s: %s (endianness mark 0x%08x, expected 0x%08x)", path,
                       endian == 0x04030201u ? "written on a machine of the other byte order"
                                             : "corrupt model file",
                       endian, ENDIAN_MARK);
        goto fail;
    }
    uint32_t version = get32(h, H_VERSION);
    if (version != RS_MODEL_VERSION) {
        rc = rs_seterr(e, RS_EDATA, "%s: model format version %u, this program reads %d", path,
                       version, RS_MODEL_VERSION);
        goto fail;
    }
    char kind[17];
    memcpy(kind, h + H_KIND, 16);
    kind[16] = 0;
    int32_t rows = (int32_t)get32(h, H_ROWS), dim = (int32_t)get32(h, H_DIM),
            n_items = (int32_t)get32(h, H_NITEMS);
    uint32_t flags = get32(h, H_FLAGS);
    if (!kind[0] || strlen(kind) > 15) {
        rc = rs_seterr(e, RS_EDATA, "%s: corrupt model file: bad kind field", path);
        goto fail;
    }
    /* n_items (the size of the index space, products of the catalogue) is not backed by
     * data in the file, and the loader allocates a table of that size: bound it so a
     * corrupt header cannot ask for gigabytes.  2^26 products is far beyond any
     * catalogue this tool serves. */
    if (n_items > RS_MODEL_MAX_ITEMS) {
        rc = rs_seterr(e, RS_EDATA, "%s: header claims %d items, more than the %d a model "
                       "may index (corrupt file?)", path, n_items, RS_MODEL_MAX_ITEMS);
        goto fail;
    }
    if (rows < 1 || dim < 1 || dim > 65536 || n_items < rows) {
        rc = rs_seterr(e, RS_EDATA, "%s: corrupt model file: %d rows, %d dims, %d items", path,
                       rows, dim, n_items);
        goto fail;
    }
    if ((flags & ~(F_IN | F_OUT | F_COUNTS)) || !(flags & F_IN)) {
        rc = rs_seterr(e, RS_EDATA, "%s: corrupt model file: unknown flags 0x%x", path, flags);
        goto fail;
    }
    uint64_t hdr_len = get64(h, H_FILELEN);
    if (hdr_len != file_len) {
        rc = rs_seterr(e, RS_EDATA, "%s: %s model file: the header says %" PRIu64
                       " bytes, the file has %" PRIu64, path,
                       hdr_len > file_len ? "truncated" : "corrupt", hdr_len, file_len);
        goto fail;
    }
    uint64_t off_in = get64(h, H_OFF), off_out = get64(h, H_OFF + 8),
             off_counts = get64(h, H_OFF + 16), off_rowitem = get64(h, H_OFF + 24),
             off_ext = get64(h, H_OFF + 32), ext_len = get64(h, H_EXTLEN);
    uint64_t mat = (uint64_t)rows * (uint64_t)dim * 4;
    uint64_t after = PAGE;
    if ((rc = check_section(path, "input", off_in, mat, after, file_len, e)))
        goto fail;
    after = off_in + mat;
    if (flags & F_OUT) {
        if ((rc = check_section(path, "output", off_out, mat, after, file_len, e)))
            goto fail;
        after = off_out + mat;
    }
    if (flags & F_COUNTS) {
        if ((rc = check_section(path, "counts", off_counts, (uint64_t)rows * 8, after,
                                file_len, e)))
            goto fail;
        after = off_counts + (uint64_t)rows * 8;
    }
    if ((rc = check_section(path, "id table", off_rowitem, (uint64_t)rows * 4, after, file_len,
                            e)))
        goto fail;
    after = off_rowitem + (uint64_t)rows * 4;
    if ((rc = check_section(path, "external ids", off_ext, ext_len, after, file_len, e)))
        goto fail;

    m = calloc(1, sizeof *m);
    if (!m) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory loading %s", path);
        goto fail;
    }
    m->mapping = map;
    m->mapping_len = map_len;
    map = MAP_FAILED; /* owned by m from here */
    const unsigned char *base = m->mapping;
    m->n_items = n_items;
    m->rows = rows;
    m->dim = dim;
    snprintf(m->kind, sizeof m->kind, "%s", kind);
    m->in = (float *)(uintptr_t)(base + off_in);
    m->out = (flags & F_OUT) ? (float *)(uintptr_t)(base + off_out) : NULL;
    m->counts = (flags & F_COUNTS) ? (int64_t *)(uintptr_t)(base + off_counts) : NULL;
    m->row_item = (int32_t *)(uintptr_t)(base + off_rowitem);
    m->item_row = malloc((size_t)n_items * sizeof *m->item_row);
    m->ext_ids = malloc((size_t)rows * sizeof *m->ext_ids);
    if (!m->item_row || !m->ext_ids) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory loading %s", path);
        goto fail;
    }
    for (int32_t i = 0; i < n_items; i++)
        m->item_row[i] = -1;
    for (int32_t r = 0; r < rows; r++) {
        int32_t it = m->row_item[r];
        if (it < 0 || it >= n_items) {
            rc = rs_seterr(e, RS_EDATA, "%s: corrupt model file: row %d has item index %d "
                           "outside 0..%d", path, r, it, n_items - 1);
            goto fail;
        }
        if (m->item_row[it] >= 0) {
            rc = rs_seterr(e, RS_EDATA, "%s: corrupt model file: item index %d appears in "
                           "rows %d and %d", path, it, m->item_row[it], r);
            goto fail;
        }
        m->item_row[it] = r;
    }
    {
        const char *p = (const char *)base + off_ext, *end = p + ext_len;
        for (int32_t r = 0; r < rows; r++) {
            const char *z = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;
            if (!z || z == p) {
                rc = rs_seterr(e, RS_EDATA, "%s: corrupt model file: external id of row %d "
                               "is missing or empty", path, r);
                goto fail;
            }
            m->ext_ids[r] = p;
            p = z + 1;
        }
        if (p != end) {
            rc = rs_seterr(e, RS_EDATA, "%s: corrupt model file: %td stray bytes after the "
                           "external ids", path, end - p);
            goto fail;
        }
    }
    close(fd);
    *out = m;
    return RS_OK;
fail:
    if (map != MAP_FAILED)
        munmap(map, map_len);
    rs_embedding_free(m);
    if (fd >= 0)
        close(fd);
    return rc;
}

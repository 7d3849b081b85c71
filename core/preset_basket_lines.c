/* preset_basket_lines.c - one receipt per line, items separated by the delimiter, no
 * header (the Groceries layout); item name = product = category.
 *
 * The data has no receipt ids: a line's receipt is "<h>:<line>", h = the first 16 hex
 * digits of the SHA-256 of the file as it was first imported, line = its line number
 * (1-based).  So two files never share a receipt whatever their names and folders, the
 * evaluation split does not depend on a file's name, and a file that grows by lines
 * appended at the end keeps its ids: imported again, only the new lines are read
 * (imp_ledger_prior). */
#include <stdlib.h>
#include <string.h>

#include "import_int.h"

/* Line 1's items (trimmed, non-empty), at most HDR_MAX of them (a longer line is not
 * taken for a header). */
#define HDR_MAX 256

typedef struct hdritems {
    const char *p[HDR_MAX];
    size_t n[HDR_MAX];
    int count;
} hdritems;

static int hdr_has(const hdritems *h, const char *p, size_t n)
{
    for (int i = 0; i < h->count; i++)
        if (h->n[i] == n && memcmp(h->p[i], p, n) == 0)
            return 1;
    return 0;
}

/* Whether line 1 is a header by the documented rule: it has 2 or more items, none of
 * them occurs on another line, no other line has more fields, and there are at least 2
 * other lines.  (A header's "Item 1", "Item 2" ... never occur again and it is as wide
 * as the widest basket; a basket's items nearly always occur again, and the scan stops
 * at the first one found.) */
static int is_header(const rs_csv_file *f, char delim, rs_csv_reader *r, hdritems *h)
{
    if (rs_csv_read(r) != RS_CSV_ROW)
        return 0;
    for (size_t i = 0; i < r->nf; i++) { /* r is not read again: its fields stay valid */
        const char *p = r->f[i].p;
        size_t n = r->f[i].n;
        imp_trim(&p, &n);
        if (!n)
            continue;
        if (h->count == HDR_MAX)
            return 0;
        h->p[h->count] = p;
        h->n[h->count++] = n;
    }
    if (h->count < 2)
        return 0;
    int64_t others = 0;
    int found = 0, rc;
    size_t released = 0;
    rs_csv_reader rest;
    rs_csv_reader_init(&rest, f->data, (size_t)(r->p - f->data), f->size, delim, 2);
    while (!found && (rc = rs_csv_read(&rest)) == RS_CSV_ROW) {
        others++;
        found = rest.nf > r->nf; /* wider than line 1 */
        for (size_t i = 0; i < rest.nf && !found; i++) {
            const char *p = rest.f[i].p;
            size_t n = rest.f[i].n;
            imp_trim(&p, &n);
            found = n && hdr_has(h, p, n);
        }
        size_t at = (size_t)(rest.p - f->data);
        if (at - released >= ((size_t)8 << 20)) { /* bounded RSS over a big file */
            rs_csv_file_release(f, released, at);
            released = at;
        }
    }
    rs_csv_file_release(f, released, (size_t)(rest.p - f->data));
    rs_csv_reader_free(&rest);
    /* a CSV error ends the scan: the parse proper reports it */
    return others >= 2 && !found && rc == RS_CSV_END;
}

int imp_basket_header(const imp *im, const rs_csv_file *f, char delim, size_t *start,
                      int64_t *line, int *skipped)
{
    rs_csv_reader r;
    hdritems h;
    h.count = 0;
    *skipped = 0;
    if (im->o->header == 0)
        return RS_OK;
    rs_csv_reader_init(&r, f->data, f->body, f->size, delim, 1);
    int yes = im->o->header > 0 ? rs_csv_read(&r) == RS_CSV_ROW : is_header(f, delim, &r, &h);
    if (yes) {
        *start = (size_t)(r.p - f->data);
        *line = r.line;
        *skipped = 1;
    }
    rs_csv_reader_free(&r);
    return RS_OK;
}

const rs_import_preset rs_preset_basket_lines = {
    .name = "basket-lines",
    .inputs = "FILE ...",
    .help = "FILE(s), one receipt per line, items separated by the\n"
            "delimiter (the Groceries layout); item name = product =\n"
            "category.  Line 1 is a header when none of its 2+ items\n"
            "occurs on another line, no line has more fields and 2+\n"
            "lines follow (--header, --no-header decide).\n"
            "Receipt ids: <h>:<line>, h = 16 hex digits of the SHA-256\n"
            "of the file first imported.",
    .kind = "basket-lines",
    .flags = RS_PF_NO_HEADER | RS_PF_BASKET_LINES | RS_PF_ITEM_CATEGORY,
    .run = imp_run_files,
};

/* synth_assets.c - the word lists of the synthetic world (assets/names) and the set of
 * names already given. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "synth_internal.h"
#include "timeutil.h"

/* ---------------------------------------------------------------------------------
 * Word lists.
 */
static int sl_push(strlist *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    char *c = strndup(s, len);
    if (!c)
        return -1;
    l->v[l->n++] = c;
    return 0;
}

static void sl_free(strlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static const strlist *kl_find(const keyedlist *kl, const char *key)
{
    for (int i = 0; i < kl->n; i++)
        if (strcmp(kl->v[i].key, key) == 0)
            return &kl->v[i].items;
    return NULL;
}

static strlist *kl_get(keyedlist *kl, const char *key, size_t len)
{
    for (int i = 0; i < kl->n; i++)
        if (strlen(kl->v[i].key) == len && memcmp(kl->v[i].key, key, len) == 0)
            return &kl->v[i].items;
    if (kl->n == kl->cap) {
        int cap = kl->cap ? kl->cap * 2 : 16;
        keyed *v = realloc(kl->v, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        kl->v = v;
        kl->cap = cap;
    }
    keyed *k = &kl->v[kl->n];
    memset(k, 0, sizeof *k);
    k->key = strndup(key, len);
    if (!k->key)
        return NULL;
    kl->n++;
    return &k->items;
}

static void kl_free(keyedlist *kl)
{
    for (int i = 0; i < kl->n; i++) {
        free(kl->v[i].key);
        sl_free(&kl->v[i].items);
    }
    free(kl->v);
    memset(kl, 0, sizeof *kl);
}

void sy_assets_free(assets_t *a)
{
    sl_free(&a->cities);
    sl_free(&a->brands);
    kl_free(&a->quals);
    kl_free(&a->descs);
    kl_free(&a->sizes);
    kl_free(&a->cats);
    for (int i = 0; i < a->ndept; i++) {
        free(a->dept[i].name);
        sl_free(&a->dept[i].bases);
        free(a->dept[i].base_sizes);
    }
    free(a->dept);
    memset(a, 0, sizeof *a);
}

static void trim(const char **s, const char **end)
{
    while (*s < *end && (**s == ' ' || **s == '\t' || **s == '\r'))
        (*s)++;
    while (*end > *s && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
        (*end)--;
}

static int read_whole(const char *path, char **out, rs_error *e)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rs_seterr(e, RS_EDATA, "%s: cannot open word list: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int rc = RS_OK;
    if (!buf) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    for (;;) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = rs_seterr(e, RS_EDATA, "%s: read error", path);
        goto done;
    }
    buf[len] = '\0';
    *out = buf;
    buf = NULL;
done:
    free(buf);
    fclose(f);
    return rc;
}


/* Parses one word list file.  PLAIN: one item a line -> plain.  KEYED: "key: a, b"
 * -> keyed.  DEPTS: "Name | class | sizes" -> plain gets "Name", keyed gets
 * {Name: [class, sizes]}. */
static int load_list(const char *dir, const char *file, list_kind kind, strlist *plain,
                     keyedlist *kl, rs_error *e)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/names/%s", dir, file) >= sizeof path)
        return rs_seterr(e, RS_EUSAGE, "assets directory path too long: %s", dir);
    char *text = NULL;
    int rc = read_whole(path, &text, e);
    if (rc)
        return rc;
    int lineno = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        const char *s = line, *end = nl ? nl : line + strlen(line);
        line = nl ? nl + 1 : (char *)end;
        lineno++;
        trim(&s, &end);
        if (s == end || *s == '#')
            continue;
        if (kind == LIST_PLAIN) {
            if (sl_push(plain, s, (size_t)(end - s))) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
            continue;
        }
        if (kind == LIST_DEPTS) {
            const char *p1 = memchr(s, '|', (size_t)(end - s));
            const char *p2 = p1 ? memchr(p1 + 1, '|', (size_t)(end - p1 - 1)) : NULL;
            if (!p2) {
                rc = rs_seterr(e, RS_EDATA, "%s:%d: expected 'Name | class | sizes'", path,
                               lineno);
                goto done;
            }
            const char *a = s, *ae = p1, *b = p1 + 1, *be = p2, *c = p2 + 1, *ce = end;
            trim(&a, &ae);
            trim(&b, &be);
            trim(&c, &ce);
            strlist *it = NULL;
            if (a == ae || b == be || c == ce) {
                rc = rs_seterr(e, RS_EDATA, "%s:%d: empty field", path, lineno);
                goto done;
            }
            if (sl_push(plain, a, (size_t)(ae - a)) || !(it = kl_get(kl, a, (size_t)(ae - a))) ||
                sl_push(it, b, (size_t)(be - b)) || sl_push(it, c, (size_t)(ce - c))) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
            continue;
        }
        const char *colon = memchr(s, ':', (size_t)(end - s));
        if (!colon) {
            rc = rs_seterr(e, RS_EDATA, "%s:%d: expected 'key: item, item, ...'", path, lineno);
            goto done;
        }
        const char *k = s, *ke = colon;
        trim(&k, &ke);
        strlist *items = kl_get(kl, k, (size_t)(ke - k));
        if (!items) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        for (const char *p = colon + 1; p < end;) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *is = p, *ie = comma ? comma : end;
            p = comma ? comma + 1 : end;
            trim(&is, &ie);
            if (is == ie)
                continue;
            if (sl_push(items, is, (size_t)(ie - is))) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
        }
    }
    if ((kind == LIST_KEYED && kl->n == 0) || (kind != LIST_KEYED && plain->n == 0))
        rc = rs_seterr(e, RS_EDATA, "%s: empty word list", path);
done:
    free(text);
    return rc;
}

int sy_assets_load(const char *dir, assets_t *a, rs_error *e)
{
    memset(a, 0, sizeof *a);
    strlist dept_names = {0};
    keyedlist dept_info = {0};
    int rc;
    if ((rc = load_list(dir, "cities.txt", LIST_PLAIN, &a->cities, NULL, e)) ||
        (rc = load_list(dir, "brands.txt", LIST_PLAIN, &a->brands, NULL, e)) ||
        (rc = load_list(dir, "qualifiers.txt", LIST_KEYED, NULL, &a->quals, e)) ||
        (rc = load_list(dir, "descriptors.txt", LIST_KEYED, NULL, &a->descs, e)) ||
        (rc = load_list(dir, "sizes.txt", LIST_KEYED, NULL, &a->sizes, e)) ||
        (rc = load_list(dir, "categories.txt", LIST_KEYED, NULL, &a->cats, e)) ||
        (rc = load_list(dir, "departments.txt", LIST_DEPTS, &dept_names, &dept_info, e)))
        goto done;
    a->dept = calloc((size_t)dept_names.n, sizeof *a->dept);
    if (!a->dept) {
        rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
        goto done;
    }
    for (int i = 0; i < dept_names.n; i++) {
        asset_dept *d = &a->dept[a->ndept];
        const char *name = dept_names.v[i];
        const strlist *info = kl_find(&dept_info, name);
        if (info->n != 2) {
            rc = rs_seterr(e, RS_EDATA, "%s/names/departments.txt: department '%s' listed twice",
                           dir, name);
            goto done;
        }
        d->name = strdup(name);
        if (!d->name) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        a->ndept++;
        d->quals = kl_find(&a->quals, info->v[0]);
        d->descs = kl_find(&a->descs, info->v[0]);
        d->sizes = kl_find(&a->sizes, info->v[1]);
        const strlist *bases = kl_find(&a->cats, name);
        if (!d->quals || !d->descs || !d->sizes || !bases || !d->descs->n || !d->sizes->n ||
            !bases->n) {
            rc = rs_seterr(e, RS_EDATA,
                           "%s/names: department '%s' needs class '%s' in qualifiers.txt and "
                           "descriptors.txt, sizes '%s' in sizes.txt and a line in "
                           "categories.txt",
                           dir, name, info->v[0], info->v[1]);
            goto done;
        }
        d->base_sizes = calloc((size_t)bases->n, sizeof *d->base_sizes);
        if (!d->base_sizes) {
            rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
            goto done;
        }
        for (int j = 0; j < bases->n; j++) {
            /* "Name [sizes]" overrides the department's size list */
            const char *s = bases->v[j], *end = s + strlen(s);
            const strlist *sz = d->sizes;
            const char *br = strchr(s, '[');
            if (br && end[-1] == ']') {
                char key[128];
                const char *k = br + 1, *ke = end - 1;
                trim(&k, &ke);
                if ((size_t)(ke - k) >= sizeof key || !(sz = kl_get(&a->sizes, k, (size_t)(ke - k))) ||
                    sz->n == 0) {
                    snprintf(key, sizeof key, "%.*s", (int)(ke - k), k);
                    rc = rs_seterr(e, RS_EDATA, "%s/names/categories.txt: unknown size list '%s'",
                                   dir, key);
                    goto done;
                }
                end = br;
            }
            trim(&s, &end);
            if (sl_push(&d->bases, s, (size_t)(end - s))) {
                rc = rs_seterr(e, RS_EINTERNAL, "out of memory");
                goto done;
            }
            d->base_sizes[j] = sz;
        }
    }
    if (a->brands.n < 2) {
        rc = rs_seterr(e, RS_EDATA, "%s/names/brands.txt: need at least 2 brands", dir);
        goto done;
    }
    rc = RS_OK;
done:
    sl_free(&dept_names);
    kl_free(&dept_info);
    if (rc)
        sy_assets_free(a);
    return rc;
}

/* ---------------------------------------------------------------------------------
 * A set of strings (not owned), for unique category and product names.
 */
int sy_ns_init(nameset *s, size_t expect)
{
    size_t cap = 64;
    while (cap < expect * 2 + 16)
        cap *= 2;
    s->slot = calloc(cap, sizeof *s->slot);
    s->mask = cap - 1;
    s->n = 0;
    return s->slot ? 0 : -1;
}

/* 1 when added, 0 when already present, -1 when out of memory. */
int sy_ns_add(nameset *s, const char *name)
{
    if ((s->n + 1) * 2 > s->mask + 1) {
        size_t cap = (s->mask + 1) * 2;
        const char **ns = calloc(cap, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i <= s->mask; i++) {
            if (!s->slot[i])
                continue;
            size_t h = rs_fnv1a64(RS_FNV64_INIT, s->slot[i], strlen(s->slot[i])) & (cap - 1);
            while (ns[h])
                h = (h + 1) & (cap - 1);
            ns[h] = s->slot[i];
        }
        free(s->slot);
        s->slot = ns;
        s->mask = cap - 1;
    }
    size_t h = rs_fnv1a64(RS_FNV64_INIT, name, strlen(name)) & s->mask;
    while (s->slot[h]) {
        if (strcmp(s->slot[h], name) == 0)
            return 0;
        h = (h + 1) & s->mask;
    }
    s->slot[h] = name;
    s->n++;
    return 1;
}

void sy_ns_free(nameset *s)
{
    free(s->slot);
    s->slot = NULL;
}

/* import_mapping.c - the JSON mapping file of `import --mapping` (import.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_int.h"
#include "timeutil.h"

static int map_section(const cJSON *sec, const char *secname, const char *const *keys,
                       const char **dst, int nkeys, const char *path, rs_error *e)
{
    if (!cJSON_IsObject(sec))
        return rs_seterr(e, RS_EDATA, "%s: \"%s\" must be an object of column names", path,
                         secname);
    for (const cJSON *it = sec->child; it; it = it->next) {
        int k;
        for (k = 0; k < nkeys; k++)
            if (strcmp(it->string, keys[k]) == 0)
                break;
        if (k == nkeys)
            return rs_seterr(e, RS_EDATA, "%s: unknown key \"%s.%s\"", path, secname, it->string);
        if (!cJSON_IsString(it) || !*it->valuestring)
            return rs_seterr(e, RS_EDATA, "%s: \"%s.%s\" must be a column name (a string)", path,
                             secname, it->string);
        if (!dst[k])
            dst[k] = it->valuestring;
    }
    return RS_OK;
}

/* Reads the whole file into a NUL-terminated buffer. */
static int slurp(const char *path, char **out, rs_error *e)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return rs_seterr(e, RS_EUSAGE, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = RS_OK;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                rc = imp_oom(e);
                goto done;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: read error", path);
        goto done;
    }
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
done:
    fclose(fp);
    free(buf);
    return rc;
}

/* One top-level key of the mapping. */
static int map_key(rs_import_opts *o, const cJSON *it, const char *path, rs_error *e)
{
    static const char *const RK[RS_RCOLS] = {"receipt_id", "product_id", "city",
                                             "quantity",   "timestamp",  "customer_id"};
    static const char *const PK[RS_PCOLS] = {"product_id", "name", "category",
                                             "department", "brand", "price"};
    static const char *const CK[RS_CCOLS] = {"category", "department"};
    const char *k = it->string;
    if (strcmp(k, "receipts") == 0)
        return map_section(it, k, RK, o->rcol, RS_RCOLS, path, e);
    if (strcmp(k, "products") == 0)
        return map_section(it, k, PK, o->pcol, RS_PCOLS, path, e);
    if (strcmp(k, "categories") == 0)
        return map_section(it, k, CK, o->ccol, RS_CCOLS, path, e);
    if (strcmp(k, "delimiter") == 0) {
        const char *d = cJSON_IsString(it) ? it->valuestring : NULL;
        char c = !d ? 0 : strcmp(d, "\\t") == 0 || strcmp(d, "tab") == 0 ? '\t'
                    : strlen(d) == 1 && strchr(",;\t|", d[0]) ? d[0] : 0;
        if (!c)
            return rs_seterr(e, RS_EDATA, "%s: \"delimiter\" must be one of \",\" \";\" "
                                          "\"\\t\" \"|\"", path);
        if (!o->delimiter)
            o->delimiter = c;
        return RS_OK;
    }
    if (strcmp(k, "preset") == 0) {
        if (!cJSON_IsString(it))
            return rs_seterr(e, RS_EDATA, "%s: \"preset\" must be a string", path);
        if (!o->preset)
            o->preset = it->valuestring;
        return RS_OK;
    }
    if (strcmp(k, "default_city") == 0) {
        if (!cJSON_IsString(it) || !*it->valuestring)
            return rs_seterr(e, RS_EDATA, "%s: \"default_city\" must be a string", path);
        if (!o->default_city)
            o->default_city = it->valuestring;
        return RS_OK;
    }
    if (strcmp(k, "time_unit") == 0) {
        const char *u = cJSON_IsString(it) ? it->valuestring : "";
        if (strcmp(u, "s") != 0 && strcmp(u, "ms") != 0)
            return rs_seterr(e, RS_EDATA, "%s: \"time_unit\" must be \"s\" or \"ms\"", path);
        if (!o->time_unit)
            o->time_unit = strcmp(u, "ms") == 0 ? RS_TIME_MILLIS : RS_TIME_SECONDS;
        return RS_OK;
    }
    if (strcmp(k, "unknown_products") == 0) {
        if (!cJSON_IsString(it) || (strcmp(it->valuestring, "skip") != 0 &&
                                    strcmp(it->valuestring, "error") != 0))
            return rs_seterr(e, RS_EDATA, "%s: \"unknown_products\" must be \"error\" or "
                                          "\"skip\"", path);
        if (o->skip_unknown < 0)
            o->skip_unknown = strcmp(it->valuestring, "skip") == 0;
        return RS_OK;
    }
    return rs_seterr(e, RS_EDATA, "%s: unknown key \"%s\" (known: delimiter, preset, "
                                  "default_city, time_unit, unknown_products, receipts, "
                                  "products, categories)", path, k);
}

int rs_import_mapping_load(rs_import_opts *o, const char *path, rs_error *e)
{
    char *buf = NULL;
    int rc = slurp(path, &buf, e);
    if (rc)
        return rc;
    cJSON *root = cJSON_Parse(buf);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        int line = 1, col = 1;
        for (const char *q = buf; at && q < at && *q; q++) {
            if (*q == '\n') {
                line++;
                col = 1;
            } else
                col++;
        }
        rc = rs_seterr(e, RS_EDATA, "%s:%d:%d: invalid JSON", path, line, col);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        rc = rs_seterr(e, RS_EDATA, "%s: the mapping must be a JSON object", path);
        goto done;
    }
    if (o->mapping)
        cJSON_Delete(o->mapping);
    o->mapping = root;
    for (const cJSON *it = root->child; it && rc == RS_OK; it = it->next)
        rc = map_key(o, it, path, e);
done:
    free(buf);
    return rc;
}

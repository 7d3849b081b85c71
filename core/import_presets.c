/* import_presets.c - the preset table: --preset NAME, the CLI help and the "unknown
 * preset" message all come from here (import.h).  Add a preset: a core/preset_NAME.c
 * with its descriptor, a line below, and docs/HACKING.md "Add an import preset". */
#include <stdio.h>
#include <string.h>

#include "import_int.h"

const rs_import_preset *const rs_import_presets[] = {
    &rs_preset_canonical,     &rs_preset_instacart,    &rs_preset_completejourney,
    &rs_preset_online_retail, &rs_preset_basket_lines, &rs_preset_events,
    NULL,
};

const rs_import_preset *rs_import_preset_find(const char *name)
{
    for (const rs_import_preset *const *p = rs_import_presets; name && *p; p++)
        if (strcmp((*p)->name, name) == 0)
            return *p;
    return NULL;
}

int rs_import_preset_check(const char *name, rs_error *e)
{
    if (rs_import_preset_find(name))
        return RS_OK;
    char known[256];
    size_t k = 0;
    known[0] = '\0';
    for (const rs_import_preset *const *p = rs_import_presets; *p && k < sizeof known; p++) {
        int w = snprintf(known + k, sizeof known - k, "%s%s", k ? ", " : "", (*p)->name);
        if (w < 0)
            break;
        k += (size_t)w;
    }
    return rs_seterr(e, RS_EUSAGE, "unknown preset '%s' (known: %s)", name ? name : "", known);
}

int imp_run_files(imp *im, const rs_import_preset *p, rs_error *e)
{
    int rc = RS_OK;
    for (int i = 0; i < im->o->ninputs && rc == RS_OK; i++)
        rc = imp_receipts_file(im, im->o->inputs[i], p, e);
    return rc;
}

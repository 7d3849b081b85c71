/* test_screen.c - the headless screen suite (tig style): scripted keys replayed
 * through the TUI's own dispatcher on the fixed test world, the screen dumped as text
 * (and attribute letters) and compared with tests/screen/expected/<case>.txt.
 *
 * Cases run at 80x24 and larger sizes, in UTF-8 and in the C locale (whose dumps must
 * hold no byte above 0x7F), with colour and with NO_COLOR.  Every command of the key
 * table must be used by some case (checked below), so the help table and the suite
 * cannot drift apart.
 *
 * RS_SCREEN_BLESS=1 rewrites the expected files from the current output; they must
 * then be read by a person before they are committed.
 */
#include <curses.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../testlib.h"
#include "keys.h"
#include "store.h"
#include "tui.h"
#include "world.h"

typedef struct scase {
    const char *name;
    int rows, cols;
    int utf8, color, attrs;
    int world; /* W_*: which world it draws */
    const char *city, *product, *keys;
} scase;

/* Cases named "*_background" take the interactive start: co-purchases are counted in
 * the background, which the snapshot lets finish only after the keys. */
static int case_fast(const scase *c)
{
    size_t n = strlen(c->name), m = strlen("_background");
    return n >= m && strcmp(c->name + n - m, "_background") == 0;
}

/* The worlds: the full one; without models; and the full one damaged for the issue 11
 * regressions (built by mutate_world below). */
enum { W_FULL, W_NOMODELS, W_BROKEN, W_UNSOLD, W_NAN, W_CUSTOMERS, W_COUNT };
static const char *const WORLD_DIRS[W_COUNT] = {".",   "nomodels", "broken",
                                                "unsold", "nan", "customers"};

/* U = UTF-8, A = ASCII (LC_ALL=C); C = colour, M = monochrome (NO_COLOR) */
#define U 1
#define A 0
#define C 1
#define M 0
static const scase CASES[] = {
    /* the first screen, in every rendering: the product the TUI opens on by the models'
     * evidence (tui_start_product); the other cases start from P16 (Butter Croissant) */
    {"start_utf8_color", 24, 80, U, C, 1, 0, NULL, NULL, NULL},
    {"start_ascii_mono", 24, 80, A, M, 1, 0, NULL, NULL, NULL},
    {"start_utf8_mono", 24, 80, U, M, 1, 0, NULL, NULL, NULL},
    {"large_120x40_ascii", 40, 120, A, C, 0, 0, NULL, NULL, NULL},
    {"large_160x48_utf8", 48, 160, U, C, 1, 0, NULL, NULL, NULL},
    {"city_fallback", 24, 80, U, C, 0, 0, "Ogdenville", "P11", NULL},
    /* moving */
    {"move_down_up", 24, 80, U, C, 1, 0, NULL, "P16", "jjj<Down>k<Up>j"},
    {"page_down", 24, 80, U, C, 1, 0, NULL, "P16", "<PgDn><C-f><Space>"},
    {"page_up_bottom_top", 24, 80, U, C, 1, 0, NULL, "P16", "G<End><PgUp><C-b>"},
    {"bottom_then_top", 24, 80, U, C, 1, 0, NULL, "P16", "G<Home>jg"},
    {"panes", 24, 80, U, C, 1, 0, NULL, "P16", "<Tab><Tab><Tab><S-Tab>"},
    {"follow_synonym", 24, 80, U, C, 0, 0, NULL, "P16", "j<Enter>"},
    {"follow_l_right", 24, 80, U, C, 0, 0, NULL, "P16", "l<Tab><Tab><Right>"},
    {"follow_category", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab><Enter>"},
    {"back", 24, 80, U, C, 0, 0, NULL, "P16", "j<Enter>jj<Enter>h<BS>"},
    {"back_at_start", 24, 80, U, C, 0, 0, NULL, "P16", "<Left>"},
    /* rows asked for, popularity cut-offs */
    {"k_more", 24, 80, U, C, 0, 0, NULL, "P16", "+=G"},
    {"k_fewer", 24, 80, U, C, 0, 0, NULL, "P16", "--"},
    {"cutoff_lower_up", 24, 80, U, C, 1, 0, NULL, "P16", "]]]]]]"},
    {"cutoff_lower_down", 24, 80, A, M, 1, 0, NULL, "P16", "[[[[[[[["},
    {"cutoff_upper_down", 24, 80, U, C, 1, 0, NULL, "P16", "{{{{{{{{{{"},
    {"cutoff_upper_up", 24, 80, U, C, 0, 0, NULL, "P16", "{{{{}"},
    {"cutoff_cross", 24, 80, U, C, 0, 0, NULL, "P16", "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"},
    /* basket */
    {"any_category", 24, 80, U, C, 0, 0, NULL, "P16", "a"},
    {"any_category_off", 24, 80, U, C, 0, 0, NULL, "P16", "aa"},
    {"basket_add", 24, 80, U, C, 1, 0, NULL, "P16", "<Tab><Tab>bjb"},
    {"basket_clear", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab><Tab>bB"},
    /* search */
    {"search_typing", 24, 80, U, C, 1, 0, NULL, "P16", "/chi"},
    {"search_pick", 24, 80, U, C, 0, 0, NULL, "P16", "/chips<Down><Enter>"},
    {"search_next_prev", 24, 80, U, C, 0, 0, NULL, "P16", "/tea<Enter>nnN"},
    {"search_substring", 24, 80, U, C, 0, 0, NULL, "P16", "/ream"},
    {"search_none", 24, 80, U, C, 0, 0, NULL, "P16", "/zzz"},
    {"search_edit_cancel", 24, 80, U, C, 0, 0, NULL, "P16", "/milkx<BS><C-u>brea<Esc>"},
    {"search_no_last", 24, 80, U, C, 0, 0, NULL, "P16", "n"},
    {"search_ascii", 24, 80, A, M, 0, 0, NULL, "P16", "/tea"},
    /* city picker */
    {"city_picker", 24, 80, U, C, 1, 0, NULL, "P16", "c"},
    {"city_pick", 24, 80, U, C, 0, 0, NULL, "P16", "cj<Enter>"},
    {"city_picker_ascii", 24, 80, A, M, 1, 0, NULL, "P16", "cjj"},
    /* overlays */
    {"metrics", 24, 80, U, C, 1, 0, NULL, "P16", "m"},
    {"metrics_scrolled", 24, 80, U, C, 0, 0, NULL, "P16", "mG"},
    {"metrics_large", 48, 120, U, C, 0, 0, NULL, "P16", "m"},
    {"metrics_ascii", 40, 100, A, M, 0, 0, NULL, "P16", "m"},
    {"metrics_fallback", 24, 80, U, C, 0, 0, "Ogdenville", NULL, "m"},
    {"explain_synonym", 24, 80, U, C, 0, 0, NULL, "P16", "je"},
    {"explain_category", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab>e"},
    {"explain_complement", 24, 80, U, C, 1, 0, NULL, "P16", "<Tab><Tab>jje"},
    /* the detail view follows the highlight (j/k) and Enter follows the row */
    {"explain_next_row", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab>ejjk"},
    {"explain_follow", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab>ej<Enter>"},
    {"explain_synonym_ascii", 24, 80, A, M, 0, 0, NULL, "P16", "e"},
    {"explain_fallback", 24, 80, U, C, 0, 0, "Ogdenville", "P11", "<Tab><Tab>e"},
    /* an open explanation is rebuilt when the co-purchase counts arrive */
    {"explain_background", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab><Tab>e"},
    /* complement rows with negative in.out scores still get (short) bars */
    {"complements_negative", 24, 80, U, C, 1, 0, NULL, "P16", "<Tab><Tab>G"},
    {"complements_negative_ascii", 24, 80, A, M, 0, 0, NULL, "P16", "<Tab><Tab>G"},
    {"help", 24, 80, U, C, 1, 0, NULL, "P16", "?"},
    {"help_scrolled", 24, 80, U, C, 0, 0, NULL, "P16", "<F1><PgDn>"},
    {"help_end_ascii", 24, 80, A, M, 0, 0, NULL, "P16", "?G"},
    {"help_closed_by_q", 24, 80, U, C, 0, 0, NULL, "P16", "?q"},
    {"overlay_esc", 24, 80, U, C, 0, 0, NULL, "P16", "m<Esc>"},
    {"export_prompt", 24, 80, U, C, 1, 0, NULL, "P16", "x"},
    {"export_csv", 24, 80, U, C, 0, 0, NULL, "P16", "x<C-u>view.csv<Enter>"},
    {"export_json", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab><Tab>bjbx<Enter>"},
    {"export_bad_path", 24, 80, U, C, 0, 0, NULL, "P16", "x<C-u>no/such/dir/v.json<Enter>"},
    {"export_cancel", 24, 80, U, C, 0, 0, NULL, "P16", "x<Esc>"},
    {"reload", 24, 80, U, C, 0, 0, NULL, "P16", "r"},
    {"redraw", 24, 80, U, C, 0, 0, NULL, "P16", "<C-l>"},
    {"unbound_key", 24, 80, U, C, 0, 0, NULL, "P16", "Z"},
    {"quit", 24, 80, U, C, 0, 0, NULL, "P16", "qj"},
    /* the map (view_map.c): braille / ASCII density, glyphs, moving, zoom, pan, kinds */
    {"map", 24, 80, U, C, 1, 0, NULL, "P16", "M"},
    {"map_ascii_mono", 24, 80, A, M, 1, 0, NULL, "P16", "M"},
    {"map_large_utf8", 48, 160, U, C, 0, 0, NULL, "P16", "M"},
    {"map_large_ascii", 48, 160, A, M, 0, 0, NULL, "P16", "M"},
    {"map_move_zoom", 24, 80, U, C, 0, 0, NULL, "P16", "Mjjl+<Left>"},
    {"map_pan_reset", 24, 80, U, C, 0, 0, NULL, "P16", "M++HKg"},
    {"map_pan", 24, 80, A, M, 0, 0, NULL, "P16", "M++LJ"},
    {"map_categories", 24, 80, U, C, 0, 0, NULL, "P16", "M<Tab>k"},
    {"map_categories_ascii", 48, 160, A, M, 0, 0, NULL, "P16", "M<Tab>"},
    {"map_pca_glyphs", 24, 80, U, C, 1, 0, NULL, "P16", "Mpd"},
    {"map_browse", 24, 80, U, C, 0, 0, NULL, "P16", "Mjj<Enter>"},
    {"map_browse_category", 24, 80, U, C, 0, 0, NULL, "P16", "M<Tab>j<Enter>"},
    {"map_fallback", 24, 80, U, C, 0, 0, "Ogdenville", "P16", "M"},
    {"map_no_models", 24, 80, U, C, 0, 1, NULL, "P16", "M"},
    {"map_background", 24, 80, U, C, 0, 0, NULL, "P16", "M"},
    {"map_closed", 24, 80, U, C, 0, 0, NULL, "P16", "MjM"},
    /* compare (view_compare.c): two cities side by side, rows of one side marked */
    {"compare", 24, 80, U, C, 1, 0, NULL, "P16", "C"},
    {"compare_ascii", 24, 80, A, M, 1, 0, NULL, "P16", "C"},
    {"compare_large", 48, 160, U, C, 0, 0, NULL, "P16", "C"},
    {"compare_large_ascii", 48, 160, A, M, 0, 0, NULL, "P16", "Cc"},
    {"compare_next_city", 24, 80, U, C, 0, 0, NULL, "P16", "Ccc"},
    {"compare_tab", 24, 80, U, C, 0, 0, NULL, "P16", "C<Tab><Tab>"},
    {"compare_basket", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab><Tab>bjbC<Tab>"},
    {"compare_fallback_city", 24, 80, U, C, 0, 0, "Ogdenville", "P16", "C"},
    {"compare_no_previous", 24, 80, U, C, 0, 0, NULL, "P16", "Cp"},
    /* the receipts behind a co-purchase count (view_receipts.c) */
    {"receipts", 24, 80, U, C, 1, 0, NULL, "P16", "<Tab><Tab>R"},
    {"receipts_ascii", 24, 80, A, M, 1, 0, NULL, "P16", "<Tab><Tab>R"},
    {"receipts_large", 48, 160, U, C, 0, 0, NULL, "P16", "<Tab><Tab>jR"},
    {"receipts_large_ascii", 48, 160, A, M, 0, 0, NULL, "P16", "<Tab><Tab>jR"},
    {"receipts_scrolled", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab><Tab>RG"},
    {"receipts_from_explain", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab><Tab>jjeR"},
    {"receipts_synonym", 24, 80, U, C, 0, 0, NULL, "P16", "R"},
    {"receipts_on_category", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab>R"},
    {"receipts_basket", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab><Tab>bjjR"},
    {"receipts_background", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab><Tab>R"},
    {"receipts_closed", 24, 80, U, C, 0, 0, NULL, "P16", "<Tab><Tab>Rq"},
    /* sizes */
    {"too_small", 20, 60, U, C, 1, 0, NULL, NULL, NULL},
    {"resize_small_and_back", 24, 80, U, C, 0, 0, NULL, "P16", "<resize 10x40>j<resize 30x100>"},
    /* hostile names: ESC sequences, C1, tabs, invalid UTF-8, CJK, long names */
    {"hostile_names_utf8", 24, 80, U, C, 0, 0, NULL, "P22", "/e<Down><Down>"},
    {"hostile_names_ascii", 24, 80, A, M, 0, 0, NULL, "P22", "/e<Down><Down>"},
    {"hostile_current_utf8", 24, 80, U, C, 0, 0, "Shelbyville", "P31", NULL},
    {"hostile_current_ascii", 24, 80, A, M, 0, 0, "Shelbyville", "P31", NULL},
    /* a database without models still shows the catalogue, popularity and a hint */
    {"no_models", 24, 80, U, C, 1, 1, NULL, NULL, NULL},
    {"no_models_metrics", 24, 80, U, C, 0, 1, NULL, NULL, "m"},
    {"no_models_search", 24, 80, A, M, 0, 1, NULL, NULL, "/mil"},
    {"no_models_cities", 24, 80, U, C, 0, 1, NULL, NULL, "c"},
    /* issue 11 item 17: a registered model whose file is truncated (product) or deleted
     * (category) says why, in full at 80 columns, not "no model trained yet" */
    {"i11_17_broken_model", 24, 80, U, C, 0, W_BROKEN, NULL, NULL, NULL},
    {"i11_17_broken_model_ascii", 24, 80, A, M, 0, W_BROKEN, NULL, NULL, NULL},
    {"i11_17_broken_model_explain", 24, 80, U, C, 0, W_BROKEN, NULL, NULL, "e"},
    /* ... and a product the model does not hold (never sold) says that alone */
    {"i11_17_unsold_product", 24, 80, U, C, 0, W_UNSOLD, NULL, "P41", NULL},
    /* issue 12 item 5: every pane names its scorer and its HR@10 beside popularity's,
     * held-out (Springfield) or labelled validation (the all-cities models, whose
     * evaluation is stale), in the longest form that fits */
    {"i12_05_trust_fallback", 24, 80, U, C, 1, W_FULL, "Ogdenville", "P16", NULL},
    {"i12_05_trust_wide", 30, 140, U, C, 0, W_FULL, NULL, "P16", NULL},
    {"i12_05_trust_ascii", 24, 80, A, M, 0, W_FULL, "Shelbyville", "P16", NULL},
    /* issue 12 item 7: a pane says how many rows the mask hid and which key shows them */
    {"i12_07_mask_hidden", 24, 80, U, C, 1, W_FULL, NULL, "P16", "{{{{{{{{"},
    /* issue 12 item 4: e shows co-purchases and lift for synonym rows too (counted in
     * the background on an interactive start, then the open view is rebuilt) */
    {"i12_04_synonym_lift_background", 24, 80, U, C, 0, W_FULL, NULL, "P16", "je"},
    /* issue 17: wide terminals: from 120 columns the lists fill their panes, from 160 the
     * panes stand side by side (80x24 as before) */
    {"i17_wide_140x50", 50, 140, U, C, 0, W_FULL, NULL, "P16", NULL},
    {"i17_wide_200x60", 60, 200, U, C, 1, W_FULL, NULL, "P16", "<Tab><Tab>jj"},
    {"i17_wide_200x60_ascii", 60, 200, A, M, 0, W_FULL, NULL, "P16", NULL},
    {"i17_wide_resize_back", 24, 80, U, C, 0, W_FULL, NULL, "P16", "<resize 60x200>j<resize 24x80>"},
    /* issue 17: the mask typed as numbers */
    {"i17_mask_prompt", 24, 80, U, C, 1, W_FULL, NULL, "P16", "%"},
    {"i17_mask_typed", 24, 80, U, C, 0, W_FULL, NULL, "P16", "%<C-u>20-80<Enter>"},
    {"i17_mask_typed_bad", 24, 80, U, C, 0, W_FULL, NULL, "P16", "%<C-u>80-20<Enter>"},
    {"i17_mask_typed_junk", 24, 80, A, M, 0, W_FULL, NULL, "P16", "%<C-u>abc<Enter>"},
    {"i17_mask_cancel", 24, 80, U, C, 0, W_FULL, NULL, "P16", "%<BS><BS>50<Esc>"},
    /* issue 11 item 7: NaN in the category model: the loader's reason, not "not trained" */
    {"i11_07_nan_category", 24, 80, U, C, 0, W_NAN, NULL, NULL, NULL},
    /* issue 11 item 15: text typed or from data, quoted in a message, is sanitized */
    {"i11_15_message_sanitized", 24, 80, U, C, 0, W_FULL, NULL, NULL,
     "/\302\233[2J\302\235x"},
    {"i11_15_export_error_sanitized", 24, 80, U, C, 0, W_FULL, NULL, NULL,
     "x<C-u>no/\302\233[2J/v.json<Enter>"},
    /* issue 11 item 4: an export onto a FIFO is refused (it stays a FIFO) */
    {"i11_04_tui_export_fifo", 24, 80, U, C, 0, W_FULL, NULL, NULL,
     "x<C-u>fifo.json<Enter>"},
    /* issue 14: the customer view (view_customer.c) on the world with customers */
    {"customer_pick", 24, 80, U, C, 1, W_CUSTOMERS, NULL, "P16", "u"},
    {"customer_pick_ascii", 24, 80, A, M, 0, W_CUSTOMERS, NULL, "P16", "u"},
    {"customer_filter", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "u01<BS>1"},
    {"customer_hostile_id", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "uevil<Enter>"},
    {"customer_show", 24, 80, U, C, 1, W_CUSTOMERS, NULL, "P16", "u<Enter>"},
    {"customer_show_ascii", 24, 80, A, M, 0, W_CUSTOMERS, NULL, "P16", "u<Enter>"},
    {"customer_new_for_you", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "u<Enter><Tab>"},
    {"customer_ranked", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "u<Enter><Tab><Tab>"},
    {"customer_history", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "u<Enter><S-Tab>jj"},
    {"customer_history_ascii", 24, 80, A, M, 0, W_CUSTOMERS, NULL, "P16", "u<Enter><S-Tab>j"},
    {"customer_explain", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "u<Enter>je"},
    {"customer_explain_new_ascii", 24, 80, A, M, 0, W_CUSTOMERS, NULL, "P16",
     "u<Enter><Tab>e"},
    {"customer_browse", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "u<Enter>j<Enter>"},
    {"customer_browse_back", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "u<Enter>j<Enter><BS>"},
    {"customer_back_to_list", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "u<Enter><BS>j"},
    {"customer_basket", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "u<Enter>b"},
    {"customer_unknown", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "uZZZ<Enter>"},
    {"customer_large", 48, 160, U, C, 0, W_CUSTOMERS, NULL, "P16", "u<Enter>"},
    {"customer_none", 24, 80, U, C, 0, W_FULL, NULL, "P16", "u"},
    {"customer_closed", 24, 80, U, C, 0, W_CUSTOMERS, NULL, "P16", "u<Enter>q"},
};
#define NCASES (sizeof CASES / sizeof CASES[0])

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n - 1, f);
        n += k;
        if (k == 0)
            break;
        if (n + 1 >= cap) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

static int write_all(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Renders one case into a malloc-ed string. */
static char *render(const scase *c, const char *db, double *ms)
{
    if (!setlocale(LC_ALL, c->utf8 ? "C.UTF-8" : "C")) {
        fprintf(stderr, "no C.UTF-8 locale\n");
        return NULL;
    }
    if (c->color)
        unsetenv("NO_COLOR");
    else
        setenv("NO_COLOR", "1", 1);
    rs_store *s = NULL;
    rs_error e = {0};
    if (rs_store_open(db, RS_STORE_READONLY, &s, &e) != RS_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        rs_store_close(s);
        return NULL;
    }
    tui_options opt = {.city = c->city, .product = c->product, .fast_start = case_fast(c)};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = tui_snapshot(s, &opt, c->rows, c->cols, c->keys, c->attrs, f, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    fclose(f);
    rs_store_close(s);
    if (rc != RS_OK) {
        fprintf(stderr, "%s: snapshot failed: %s\n", c->name, e.msg);
        free(buf);
        return NULL;
    }
    return buf;
}

static void show_diff(const char *dir, const char *name, const char *got, const char *want)
{
    char a[4200], b[4200], cmd[9000];
    snprintf(a, sizeof a, "%s/%s.want", dir, name);
    snprintf(b, sizeof b, "%s/%s.got", dir, name);
    if (write_all(a, want, strlen(want)) || write_all(b, got, strlen(got)))
        return;
    snprintf(cmd, sizeof cmd, "diff -u '%s' '%s' >&2", a, b);
    if (system(cmd) == -1)
        fprintf(stderr, "(diff not available)\n");
}

/* Every command of the key table is pressed by at least one case. */
static void check_coverage(void)
{
    int used[TUI_NCMDS] = {0};
    for (size_t i = 0; i < NCASES; i++) {
        if (!CASES[i].keys)
            continue;
        int codes[512];
        char err[256];
        int n = tui_keys_parse(CASES[i].keys, codes, 512, err, sizeof err);
        CHECK(n >= 0);
        for (int k = 0; k < n; k++)
            used[tui_key_command(codes[k])] = 1;
    }
    size_t nc;
    const tui_command *cmds = tui_commands(&nc);
    for (size_t i = 0; i < nc; i++) {
        if (!used[cmds[i].id])
            test_fail_at(__FILE__, __LINE__, "no screen case presses %s (%s)", cmds[i].keys,
                         cmds[i].help);
        else
            test_passed++;
        /* every key listed in the help text is bound to this command */
        for (int j = 0; cmds[i].codes[j]; j++)
            CHECK(tui_key_command(cmds[i].codes[j]) == cmds[i].id);
    }
}

/* Runs SQL on a world's database (read-write). */
static int world_exec(const char *db, const char *sql)
{
    rs_store *s = NULL;
    rs_error e = {0};
    int rc = rs_store_open(db, 0, &s, &e);
    if (rc == RS_OK)
        rc = rs_store_exec(s, sql, &e);
    if (rc != RS_OK)
        fprintf(stderr, "%s: %s\n", db, e.msg);
    rs_store_close(s);
    return rc == RS_OK ? 0 : -1;
}

/* Writes NaN over every input value of a model file (the header's input offset,
 * rows and dim: model_io.c). */
static int poison_model(const char *path)
{
    FILE *f = fopen(path, "r+b");
    unsigned char h[104];
    int ok = f && fread(h, 1, sizeof h, f) == sizeof h;
    if (ok) {
        int32_t rows, dim;
        uint64_t off;
        memcpy(&rows, h + 32, 4);
        memcpy(&dim, h + 36, 4);
        memcpy(&off, h + 48, 8);
        float nan = NAN;
        ok = fseek(f, (long)off, SEEK_SET) == 0;
        for (int64_t i = 0; ok && i < (int64_t)rows * dim; i++)
            ok = fwrite(&nan, sizeof nan, 1, f) == 1;
    }
    if (f && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* The full world, then damaged for world w (in a folder of the temporary directory,
 * which is the working directory of the cases: the TUI names files under it by their
 * relative paths, so the dumps are the same in every run). */
static int build_world(const char *tmp, int w)
{
    char dir[4200], db[4300], f[4400];
    snprintf(dir, sizeof dir, "%s/%s", tmp, WORLD_DIRS[w]);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    if (screen_world_build(dir, w != W_NOMODELS, db, sizeof db) != 0)
        return -1;
    switch (w) {
    case W_BROKEN: /* Springfield: product model truncated, category model deleted */
        snprintf(f, sizeof f, "%s/world-models/product-city1.rsm", dir);
        if (truncate(f, 100) != 0)
            return -1;
        snprintf(f, sizeof f, "%s/world-models/category-city1.rsm", dir);
        return unlink(f);
    case W_UNSOLD: /* a product of the catalogue never sold, so in no model */
        return world_exec(db, "INSERT INTO products(ext_id, name, category_id, price)"
                              " SELECT 'P41', 'Never Sold Salt', id, 1.0 FROM categories"
                              " WHERE name = 'Tea'");
    case W_NAN: /* Springfield's category model holds NaN */
        snprintf(f, sizeof f, "%s/world-models/category-city1.rsm", dir);
        return poison_model(f);
    case W_CUSTOMERS: /* receipts with times and customers (one hostile id), the
                       * customers table as an import derives it, a customer evaluation */
        return world_exec(db,
                          "UPDATE receipts SET ts = 1700000000 + id * 18000, customer = CASE"
                          " WHEN id % 50 = 7 THEN char(27) || '[2Jevil' || char(7)"
                          " WHEN id % 3 = 0 THEN 'K001' ELSE printf('K%03d', id % 20) END;"
                          "INSERT INTO customers(city_id, ext_id, receipts, first_ts, last_ts)"
                          " SELECT city_id, customer, count(*), min(ts), max(ts) FROM receipts"
                          " GROUP BY city_id, customer ORDER BY city_id, customer;"
                          "INSERT INTO evaluations(city_id, method, split, metrics, created_at)"
                          " VALUES (1, 'customer buyagain', 'customers last-30-days',"
                          " '{\"k\":10,\"customers\":20,\"precision@5\":0.31,"
                          "\"precision@10\":0.25}', '2026-12-01T10:00:00Z'),"
                          " (1, 'customer sgns', 'customers last-30-days',"
                          " '{\"k\":10,\"customers\":20,\"precision@5\":0.21,"
                          "\"precision@10\":0.18}', '2026-12-01T10:00:00Z')");
    default:
        return 0;
    }
}

/* The screen of a snapshot (UTF-8, colour) of db; NULL on failure. */
static char *snapshot_of(const char *db, const char *city, const char *product, const char *keys)
{
    scase c = {"adhoc", 24, 80, U, C, 0, W_FULL, city, product, keys};
    double ms;
    return render(&c, db, &ms);
}

/* Issue 11 item 7: NaN in the category model is not "no category model trained yet":
 * the panes show the loader's reason (non-finite value, where). */
static void i11_07_nan_category(void)
{
    char *got = snapshot_of("nan/world.db", NULL, NULL, NULL);
    CHECK(got != NULL);
    if (!got)
        return;
    CHECK(strstr(got, "no category model trained yet") == NULL);
    CHECK(strstr(got, "category model failed to load") != NULL);
    CHECK(strstr(got, "NaN") != NULL); /* the loader's reason, in full */
    free(got);
}

/* Issue 11 item 17: an export of a relative name goes beside the database, whatever the
 * working directory, and records the city and the models (ids and files). */
static void i11_17_export_beside_db(const char *tmp)
{
    char db[4200], elsewhere[4200], want[4300];
    snprintf(db, sizeof db, "%s/world.db", tmp);
    snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", tmp);
    snprintf(want, sizeof want, "%s/i11-beside.json", tmp);
    CHECK(mkdir(elsewhere, 0700) == 0);
    CHECK(chdir(elsewhere) == 0);
    char *got = snapshot_of(db, NULL, NULL, "x<C-u>i11-beside.json<Enter>");
    CHECK(got != NULL && strstr(got, "exported the view to ") != NULL);
    CHECK(access("i11-beside.json", F_OK) != 0); /* not in the working directory */
    free(got);
    CHECK(chdir(tmp) == 0);
    size_t n;
    char *json = read_all(want, &n);
    CHECK(json != NULL);
    if (json) {
        CHECK(strstr(json, "\"city\":\t\"Springfield\"") != NULL);
        CHECK(strstr(json, "\"city_id\":\t1") != NULL);
        CHECK(strstr(json, "\"database\":\t\"") != NULL);
        CHECK(strstr(json, "\"models\":\t{") != NULL);
        CHECK(strstr(json, "\"model_id\":\t3") != NULL); /* Springfield's product model */
        CHECK(strstr(json, "product-city1.rsm\"") != NULL);
        CHECK(strstr(json, "\"category_model_id\":\t4") != NULL);
        CHECK(strstr(json, "\"model_city\":\t\"Springfield\"") != NULL);
        free(json);
    }
}

/* Issue 11 item 4: the state file is written through the atomic writer: a symbolic link
 * in its place is refused (its target untouched), a regular file is replaced. */
static void i11_04_tui_state_file(const char *tmp)
{
    char state[4200], target[4200];
    snprintf(state, sizeof state, "%s/i11-state.json", tmp);
    snprintf(target, sizeof target, "%s/i11-state-target", tmp);
    CHECK(write_all(target, "keep", 4) == 0);
    CHECK(symlink(target, state) == 0);
    rs_store *s = NULL;
    rs_error e = {0};
    tui_app *a = NULL;
    CHECK(rs_store_open("world.db", RS_STORE_READONLY, &s, &e) == RS_OK);
    tui_options opt = {.state_path = state, .product = "P16"};
    CHECK(s && tui_app_open(s, &opt, &a, &e) == RS_OK);
    if (a) {
        CHECK(tui_app_save_state(a, &e) == RS_EUSAGE);
        CHECK(strstr(e.msg, "symbolic link") != NULL);
        size_t n;
        char *t = read_all(target, &n);
        CHECK(t && strcmp(t, "keep") == 0);
        free(t);
        CHECK(unlink(state) == 0);
        CHECK(tui_app_save_state(a, &e) == RS_OK);
        t = read_all(state, &n);
        CHECK(t && strstr(t, "\"product\":\t\"P16\"") != NULL);
        free(t);
        tui_app_close(a);
    }
    rs_store_close(s);
}

int main(void)
{
    const char *tmp = test_tmpdir();
    const char *bless = getenv("RS_SCREEN_BLESS");
    if (!tmp)
        return 1;
    for (int w = 0; w < W_COUNT; w++)
        if (build_world(tmp, w) != 0) {
            fprintf(stderr, "cannot build the test world %s\n", WORLD_DIRS[w]);
            return 1;
        }
    /* export cases write relative file names beside the database: run inside the
     * temporary directory, with the databases opened by relative paths */
    if (chdir(tmp) != 0)
        return 1;
    if (mkfifo("fifo.json", 0600) != 0)
        return 1;
    check_coverage();
    /* bar scales: proportional from zero; a min..max scale keeps a short bar at min */
    CHECK_NEAR(tui_bar_fraction(0.5, 0, 2), 0.25, 1e-12);
    CHECK_NEAR(tui_bar_fraction(2, 0, 2), 1, 1e-12);
    CHECK_NEAR(tui_bar_fraction(-0.05, -0.05, 2.0), TUI_BAR_FLOOR, 1e-12);
    CHECK_NEAR(tui_bar_fraction(2.0, -0.05, 2.0), 1, 1e-12);
    CHECK_NEAR(tui_bar_fraction(0.975, -0.05, 2.0), TUI_BAR_FLOOR + (1 - TUI_BAR_FLOOR) * 0.5,
               1e-12);
    CHECK_NEAR(tui_bar_fraction(3, 3, 3), 1, 1e-12); /* all equal: full bars */
    CHECK_NEAR(tui_bar_fraction(-1, 0, 2), 0, 1e-12);

    double worst = 0;
    for (size_t i = 0; i < NCASES; i++) {
        const scase *c = &CASES[i];
        double ms = 0;
        char wdb[64];
        if (c->world == W_FULL)
            snprintf(wdb, sizeof wdb, "world.db");
        else
            snprintf(wdb, sizeof wdb, "%s/world.db", WORLD_DIRS[c->world]);
        char *got = render(c, wdb, &ms);
        CHECK(got != NULL);
        if (!got)
            continue;
        if (ms > worst)
            worst = ms;
        if (!c->utf8) {
            int high = 0;
            for (const unsigned char *p = (const unsigned char *)got; *p; p++)
                high |= *p > 0x7F;
            if (high)
                test_fail_at(__FILE__, __LINE__, "%s: a byte above 0x7F in LC_ALL=C output",
                             c->name);
        }
        char path[4200];
        snprintf(path, sizeof path, "%s/tests/screen/expected/%s.txt", RS_SOURCE_ROOT, c->name);
        if (bless && *bless) {
            if (write_all(path, got, strlen(got)) != 0)
                test_fail_at(__FILE__, __LINE__, "cannot write %s", path);
            free(got);
            continue;
        }
        size_t n;
        char *want = read_all(path, &n);
        if (!want) {
            test_fail_at(__FILE__, __LINE__, "%s: no expected dump %s", c->name, path);
        } else if (strcmp(got, want) != 0) {
            test_fail_at(__FILE__, __LINE__, "%s: screen differs from %s", c->name, path);
            show_diff(tmp, c->name, got, want);
        } else {
            test_passed++;
        }
        free(want);
        free(got);
    }
    printf("slowest case: %.1f ms (open + keys + draw)\n", worst);

    /* the export cases left their files: check their content */
    size_t n;
    char *csv = read_all("view.csv", &n);
    CHECK(csv != NULL);
    if (csv) {
        CHECK(strncmp(csv, "list,rank,id,name,category,score", 32) == 0);
        CHECK(strstr(csv, "\nsynonyms,1,") != NULL);
        CHECK(strstr(csv, "\ncategories,1,C1,Milk,Dairy,") != NULL);
        /* the categories' weight as x average, as the pane shows it (5.53x) */
        CHECK(strstr(csv, ",lift,vs_average,city,model_id,model_file,category_model_id,"
                          "category_model_file\n") != NULL);
        CHECK(strstr(csv, ",5.53318,Springfield,4,") != NULL);
        /* issue 11 item 17: every row names the model that answered it */
        CHECK(strstr(csv, "/world-models/category-city1.rsm,,\n") != NULL);
        CHECK(strstr(csv, "\ncomplements,1,P01,Whole Milk 1L,Milk,") != NULL);
        free(csv);
    }
    char *json = read_all("recoscope-P16.json", &n);
    CHECK(json != NULL);
    if (json) {
        CHECK(strstr(json, "\"city\":\t\"Springfield\"") != NULL);
        CHECK(strstr(json, "\"basket\":\t[{") != NULL);
        CHECK(strstr(json, "\"complements\":\t[{") != NULL);
        CHECK(strstr(json, "\"categories_eligible\":\t") != NULL);
        CHECK(strstr(json, "\"vs_average\":\t") != NULL);
        free(json);
    }
    CHECK(access("no/such/dir/v.json", F_OK) != 0);
    /* issue 11 item 4: the FIFO was left a FIFO (the export was refused) */
    struct stat st;
    CHECK(lstat("fifo.json", &st) == 0 && S_ISFIFO(st.st_mode));
    i11_07_nan_category();
    i11_17_export_beside_db(tmp);
    i11_04_tui_state_file(tmp);
    return test_summary();
}

/* keys.h - the command table: every command once, with its keys and help text.
 *
 * Dispatch (app.c) and the help overlay both read TUI_COMMANDS, so the help screen is
 * generated from the same table the keys go through and never drifts.  Key codes are
 * curses codes (KEY_UP, ...) or characters; `snapshot --keys` spells them with
 * tui_keys_parse().
 */
#ifndef RS_TUI_KEYS_H
#define RS_TUI_KEYS_H

#include <stddef.h>

/* Key codes beyond curses' own. */
#define TUI_KEY_CTRL(c) ((c) & 0x1f)
#define TUI_KEY_ESC 27
#define TUI_KEY_RESIZE_BASE 0x200000 /* snapshot: <resize RxC> = BASE + R*1000 + C */
/* A scripted <resize RxC> key: 1 and its size, else 0. */
int tui_key_resize_size(int code, int *rows, int *cols);

/* Sections of the help overlay. */
enum { TUI_SEC_MOVE, TUI_SEC_RECS, TUI_SEC_VIEWS, TUI_SEC_OTHER, TUI_NSECTIONS };

/* X(id, section, "keys as shown in help", help text, key codes...) */
#define TUI_COMMANDS(X)                                                                     \
    X(UP, TUI_SEC_MOVE, "Up k", "move up in the list", KEY_UP, 'k')                         \
    X(DOWN, TUI_SEC_MOVE, "Down j", "move down in the list", KEY_DOWN, 'j')                 \
    X(PAGE_UP, TUI_SEC_MOVE, "PgUp C-b", "page up", KEY_PPAGE, TUI_KEY_CTRL('b'))           \
    X(PAGE_DOWN, TUI_SEC_MOVE, "PgDn C-f Space", "page down", KEY_NPAGE,                    \
      TUI_KEY_CTRL('f'), ' ')                                                               \
    X(TOP, TUI_SEC_MOVE, "g Home", "first row", 'g', KEY_HOME)                              \
    X(BOTTOM, TUI_SEC_MOVE, "G End", "last row", 'G', KEY_END)                              \
    X(PANE_NEXT, TUI_SEC_MOVE, "Tab", "next pane", '\t')                                    \
    X(PANE_PREV, TUI_SEC_MOVE, "S-Tab", "previous pane", KEY_BTAB)                          \
    X(FOLLOW, TUI_SEC_MOVE, "Enter l Right",                                                \
      "follow the highlighted row (a category: its top product)", '\n', '\r',       \
      KEY_ENTER, 'l', KEY_RIGHT)                                                            \
    X(BACK, TUI_SEC_MOVE, "Bksp h Left", "back to the previous product", KEY_BACKSPACE,     \
      127, 8, 'h', KEY_LEFT)                                                                \
    X(MORE, TUI_SEC_RECS, "+ =", "ask for more rows (k)", '+', '=')                         \
    X(FEWER, TUI_SEC_RECS, "-", "ask for fewer rows (k)", '-')                              \
    X(LOW_DOWN, TUI_SEC_RECS, "[", "lower popularity cut-off down", '[')                    \
    X(LOW_UP, TUI_SEC_RECS, "]", "lower popularity cut-off up", ']')                        \
    X(HIGH_DOWN, TUI_SEC_RECS, "{", "upper popularity cut-off down", '{')                   \
    X(HIGH_UP, TUI_SEC_RECS, "}", "upper popularity cut-off up", '}')                       \
    X(MASK, TUI_SEC_RECS, "%", "type the popularity mask (e.g. 5-95)", '%')                 \
    X(ANY_CATEGORY, TUI_SEC_RECS, "a", "synonyms from every category, or its own (toggle)", 'a') \
    X(BASKET_ADD, TUI_SEC_RECS, "b", "add the highlighted product to the basket", 'b')      \
    X(BASKET_CLEAR, TUI_SEC_RECS, "B", "clear the basket", 'B')                             \
    X(SEARCH, TUI_SEC_VIEWS, "/", "search products by name (Enter picks, Esc cancels)",     \
      '/')                                                                                  \
    X(SEARCH_NEXT, TUI_SEC_VIEWS, "n", "next match of the last search", 'n')                \
    X(SEARCH_PREV, TUI_SEC_VIEWS, "N", "previous match of the last search", 'N')            \
    X(CITY, TUI_SEC_VIEWS, "c", "pick a city (marked: falls back to all cities)", 'c')      \
    X(METRICS, TUI_SEC_VIEWS, "m", "metric panel: models, baselines, leaderboard", 'm')     \
    X(EXPLAIN, TUI_SEC_VIEWS, "e", "explain the highlighted row (in it: j/k rows, Enter)",    \
      'e')                                                                                  \
    X(MAP, TUI_SEC_VIEWS, "M", "map of what the model learned (products / categories)", 'M') \
    X(COMPARE, TUI_SEC_VIEWS, "C", "compare with another city (in it: c) or model (p)", 'C')  \
    X(RECEIPTS, TUI_SEC_VIEWS, "R", "receipts holding the highlighted product and this one", \
      'R')                                                                                  \
    X(CUSTOMER, TUI_SEC_VIEWS, "u", "customers: history, buy again, new for you, ranked", 'u') \
    X(HELP, TUI_SEC_VIEWS, "? F1", "this help", '?', KEY_F(1))                              \
    X(EXPORT, TUI_SEC_OTHER, "x", "export the view to a file (.json or .csv)", 'x')         \
    X(RELOAD, TUI_SEC_OTHER, "r", "reload models (after `recoscope train`)", 'r')           \
    X(REDRAW, TUI_SEC_OTHER, "C-l", "redraw the screen", TUI_KEY_CTRL('l'))                 \
    X(CANCEL, TUI_SEC_OTHER, "Esc", "close the overlay / cancel", TUI_KEY_ESC)              \
    X(QUIT, TUI_SEC_OTHER, "q", "close the overlay, or quit", 'q')

typedef enum {
    TUI_CMD_NONE = 0,
#define X(id, sec, keys, help, ...) TUI_CMD_##id,
    TUI_COMMANDS(X)
#undef X
        TUI_NCMDS
} tui_cmd;

typedef struct tui_command {
    tui_cmd id;
    int section;
    const char *keys;
    const char *help;
    int codes[6]; /* 0-terminated */
} tui_command;

/* The table, TUI_NCMDS - 1 entries (index i holds command i + 1). */
const tui_command *tui_commands(size_t *n);
/* The command bound to a key code, or TUI_CMD_NONE. */
tui_cmd tui_key_command(int code);
const char *tui_section_name(int section);

/* Parses a --keys script: plain characters, and <Enter> <Tab> <S-Tab> <BS> <Esc> <Up>
 * <Down> <Left> <Right> <PgUp> <PgDn> <Home> <End> <F1> <C-x> <lt> <resize RxC>.
 * Writes up to cap codes; returns how many, or -1 with a message in err for an
 * unknown <name> or too many keys. */
int tui_keys_parse(const char *script, int *codes, int cap, char *err, size_t errn);

#endif

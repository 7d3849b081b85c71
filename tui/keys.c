/* keys.c - the command table and the --keys script parser (see keys.h). */
#include <curses.h>

#include "keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const tui_command COMMANDS[] = {
#define X(id, sec, keys, help, ...) {TUI_CMD_##id, sec, keys, help, {__VA_ARGS__, 0}},
    TUI_COMMANDS(X)
#undef X
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

const tui_command *tui_commands(size_t *n)
{
    *n = NCOMMANDS;
    return COMMANDS;
}

tui_cmd tui_key_command(int code)
{
    if (code == 0)
        return TUI_CMD_NONE;
    for (size_t i = 0; i < NCOMMANDS; i++)
        for (int j = 0; COMMANDS[i].codes[j]; j++)
            if (COMMANDS[i].codes[j] == code)
                return COMMANDS[i].id;
    return TUI_CMD_NONE;
}

int tui_key_resize_size(int code, int *rows, int *cols)
{
    if (code < TUI_KEY_RESIZE_BASE)
        return 0;
    int v = code - TUI_KEY_RESIZE_BASE;
    *rows = v / 1000;
    *cols = v % 1000;
    return 1;
}

const char *tui_section_name(int section)
{
    static const char *const names[TUI_NSECTIONS] = {
        "Moving", "Recommendations", "Views", "Other"};
    return section >= 0 && section < TUI_NSECTIONS ? names[section] : "";
}

static const struct {
    const char *name;
    int code;
} NAMED[] = {
    {"Enter", '\n'},     {"Tab", '\t'},        {"S-Tab", KEY_BTAB},  {"BS", KEY_BACKSPACE},
    {"Esc", TUI_KEY_ESC}, {"Up", KEY_UP},      {"Down", KEY_DOWN},   {"Left", KEY_LEFT},
    {"Right", KEY_RIGHT}, {"PgUp", KEY_PPAGE}, {"PgDn", KEY_NPAGE},  {"Home", KEY_HOME},
    {"End", KEY_END},     {"F1", KEY_F(1)},    {"lt", '<'},          {"Space", ' '},
};

int tui_keys_parse(const char *script, int *codes, int cap, char *err, size_t errn)
{
    int n = 0;
    const unsigned char *p = (const unsigned char *)script;
    while (*p) {
        int code;
        if (*p == '<' && strchr((const char *)p, '>')) {
            const char *end = strchr((const char *)p, '>');
            size_t len = (size_t)(end - (const char *)p) - 1;
            char name[64];
            if (len == 0 || len >= sizeof name) {
                snprintf(err, errn, "bad key name near '%.20s'", (const char *)p);
                return -1;
            }
            memcpy(name, p + 1, len);
            name[len] = 0;
            code = -1;
            int r, c;
            char tail;
            if (sscanf(name, "resize %dx%d%c", &r, &c, &tail) == 2) {
                if (r < 1 || r > 999 || c < 1 || c > 999) {
                    snprintf(err, errn, "resize out of range in <%s>", name);
                    return -1;
                }
                code = TUI_KEY_RESIZE_BASE + r * 1000 + c;
            } else if (len == 3 && (name[0] == 'C' || name[0] == 'c') && name[1] == '-' &&
                       ((name[2] >= 'a' && name[2] <= 'z') || (name[2] >= 'A' && name[2] <= 'Z'))) {
                code = TUI_KEY_CTRL(name[2]);
            } else {
                for (size_t i = 0; i < sizeof NAMED / sizeof NAMED[0]; i++)
                    if (strcasecmp(name, NAMED[i].name) == 0)
                        code = NAMED[i].code;
            }
            if (code < 0) {
                snprintf(err, errn, "unknown key <%s> (known: <Enter> <Tab> <S-Tab> <BS> <Esc> "
                         "<Up> <Down> <Left> <Right> <PgUp> <PgDn> <Home> <End> <F1> "
                         "<Space> <C-x> <lt> <resize RxC>)", name);
                return -1;
            }
            p = (const unsigned char *)end + 1;
        } else if (*p >= 0x80) {
            /* a UTF-8 character typed into the search box */
            code = *p++;
            while ((*p & 0xC0) == 0x80) {
                if (n >= cap) {
                    snprintf(err, errn, "too many keys (at most %d)", cap);
                    return -1;
                }
                codes[n++] = code;
                code = *p++;
            }
        } else {
            code = *p++;
        }
        if (n >= cap) {
            snprintf(err, errn, "too many keys (at most %d)", cap);
            return -1;
        }
        codes[n++] = code;
    }
    return n;
}

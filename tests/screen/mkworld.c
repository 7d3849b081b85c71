/* mkworld.c - writes the screen tests' fixed world into a directory and prints the
 * database path (for the tmux tests and for trying the TUI by hand).
 * usage: screen_mkworld DIR [--no-models] */
#include <stdio.h>
#include <string.h>

#include "world.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [--no-models]\n", argv[0]);
        return 1;
    }
    int models = !(argc > 2 && strcmp(argv[2], "--no-models") == 0);
    char db[4096];
    if (screen_world_build(argv[1], models, db, sizeof db) != 0)
        return 3;
    printf("%s\n", db);
    return 0;
}

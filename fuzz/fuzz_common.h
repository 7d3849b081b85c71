/* fuzz_common.h - helpers shared by the libFuzzer targets.
 *
 * Loaders that take a path get the input through a file in a per-process scratch
 * directory on tmpfs (/dev/shm when present, else $TMPDIR or /tmp), rewritten for every
 * input.
 */
#ifndef RS_FUZZ_COMMON_H
#define RS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir_buf[512];

/* Removes the (by then empty) scratch directory at exit. */
static inline void fuzz_dir_remove(void)
{
    if (fuzz_dir_buf[0])
        rmdir(fuzz_dir_buf);
}

/* The scratch directory (created on first use, removed at exit; aborts when it cannot
 * be created).  Targets unlink their files after each input. */
static inline const char *fuzz_dir(void)
{
    char *dir = fuzz_dir_buf;
    if (!dir[0]) {
        const char *base = "/dev/shm";
        struct stat st;
        if (stat(base, &st) != 0 || !S_ISDIR(st.st_mode) || access(base, W_OK) != 0) {
            base = getenv("TMPDIR");
            if (!base || !*base)
                base = "/tmp";
        }
        snprintf(dir, sizeof fuzz_dir_buf, "%s/rs-fuzz-%ld", base, (long)getpid());
        if (mkdir(dir, 0700) != 0 && stat(dir, &st) != 0) {
            perror(dir);
            abort();
        }
        atexit(fuzz_dir_remove);
    }
    return dir;
}

/* dir/name, in a static buffer per call site slot (0..3). */
static inline const char *fuzz_path(int slot, const char *name)
{
    static char p[4][640];
    snprintf(p[slot & 3], sizeof p[0], "%s/%s", fuzz_dir(), name);
    return p[slot & 3];
}

/* Writes data to path (abort on failure: the harness, not the target, failed). */
static inline void fuzz_write(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* A NUL-terminated heap copy. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Splits data at the separator "\n@@\n" into at most max parts (the last part keeps the
 * rest).  Returns the number of parts; part i is [off[i], off[i] + len[i]). */
static inline int fuzz_split(const uint8_t *data, size_t size, int max, size_t *off, size_t *len)
{
    static const char SEP[] = "\n@@\n";
    int n = 0;
    size_t start = 0;
    while (n < max - 1) {
        const uint8_t *hit = size - start >= 4 ? memmem(data + start, size - start, SEP, 4) : NULL;
        if (!hit)
            break;
        off[n] = start;
        len[n] = (size_t)(hit - data) - start + 1; /* keep the newline */
        n++;
        start = (size_t)(hit - data) + 4;
    }
    off[n] = start;
    len[n] = size - start;
    return n + 1;
}

#endif

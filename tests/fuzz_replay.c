/* fuzz_replay.c - runs a libFuzzer target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer: the seed corpus and the saved crash reproducers (fuzz/regressions/) of
 * every target are replayed by the normal test suite (and under ASan/UBSan in CI), so a
 * fixed crash stays fixed.  Arguments are glob patterns; a pattern that matches nothing
 * is skipped, a pattern naming a directory replays every file in it.
 *
 * Memory is capped like libFuzzer's -rss_limit_mb/-malloc_limit_mb (2 GiB): an input
 * that makes the code under test allocate more fails the replay instead of exhausting
 * the CI machine (address space limit without ASan; ASan's max_allocation_size_mb).
 */
#include <dirent.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define REPLAY_MEM_MB 2048

#if defined(__SANITIZE_ADDRESS__)
#define REPLAY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REPLAY_ASAN 1
#endif
#endif

#ifdef REPLAY_ASAN
/* ASAN_OPTIONS from the environment are applied on top of these. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "max_allocation_size_mb=2048:allocator_may_return_null=1";
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay(const char *path)
{
    printf("%s\n", path); /* names the input when the target aborts */
    fflush(stdout);
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                rc = -1;
                goto done;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        perror(path);
        rc = -1;
        goto done;
    }
    /* an exact-size copy so a read past the end is caught by ASan */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        rc = -1;
        goto done;
    }
    if (n)
        memcpy(exact, buf, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
done:
    free(buf);
    fclose(f);
    return rc;
}

static int replay_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL && rc == 0) {
        if (de->d_name[0] == '.')
            continue;
        size_t need = strlen(dir) + strlen(de->d_name) + 2;
        char *p = malloc(need);
        if (!p) {
            rc = -1;
            break;
        }
        snprintf(p, need, "%s/%s", dir, de->d_name);
        rc = replay(p);
        (*count)++;
        free(p);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
#ifndef REPLAY_ASAN
    struct rlimit rl = {(rlim_t)REPLAY_MEM_MB << 20, (rlim_t)REPLAY_MEM_MB << 20};
    struct rlimit cur;
    if (getrlimit(RLIMIT_AS, &cur) == 0 && (cur.rlim_max == RLIM_INFINITY || cur.rlim_max > rl.rlim_max))
        (void)setrlimit(RLIMIT_AS, &rl);
#endif
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int count = 0;
    for (int i = 1; i < argc; i++) {
        glob_t g;
        int grc = glob(argv[i], 0, NULL, &g);
        if (grc == GLOB_NOMATCH)
            continue;
        if (grc != 0) {
            fprintf(stderr, "%s: glob failed\n", argv[i]);
            return 1;
        }
        for (size_t k = 0; k < g.gl_pathc; k++) {
            struct stat st;
            const char *p = g.gl_pathv[k];
            int rc = stat(p, &st) != 0 ? -1 : S_ISDIR(st.st_mode) ? replay_dir(p, &count)
                                                                   : (count++, replay(p));
            if (rc != 0) {
                globfree(&g);
                return 1;
            }
        }
        globfree(&g);
    }
    printf("replayed %d inputs\n", count);
    return count > 0 ? 0 : 77;
}

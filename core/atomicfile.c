/* atomicfile.c - temporary file, fsync, rename (see atomicfile.h). */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rs_afile {
    char *path;
    char *tmp;
    FILE *f;
};

int rs_afile_check_target(const char *path, rs_error *e)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return RS_OK;
        return rs_seterr(e, RS_EINTERNAL, "%s: %s", path, strerror(errno));
    }
    if (S_ISREG(st.st_mode))
        return RS_OK;
    const char *what = S_ISLNK(st.st_mode)    ? "a symbolic link"
                       : S_ISDIR(st.st_mode)  ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "a device";
    return rs_seterr(e, RS_EUSAGE,
                     "%s: is %s, not a regular file (refusing to replace it; write to a "
                     "file, or to - for standard output)",
                     path, what);
}

static void afile_free(rs_afile *f)
{
    if (!f)
        return;
    free(f->path);
    free(f->tmp);
    free(f);
}

int rs_afile_open(const char *path, rs_afile **out, rs_error *e)
{
    *out = NULL;
    if (!path || !*path)
        return rs_seterr(e, RS_EUSAGE, "no output path given");
    int rc = rs_afile_check_target(path, e);
    if (rc)
        return rc;
    rs_afile *f = calloc(1, sizeof *f);
    size_t n = strlen(path);
    if (!f || !(f->path = strdup(path)) || !(f->tmp = malloc(n + 16))) {
        afile_free(f);
        return rs_seterr(e, RS_EINTERNAL, "out of memory");
    }
    /* ".<name>.XXXXXX" would hide it; "<path>.tmp-XXXXXX" shows what it belongs to */
    snprintf(f->tmp, n + 16, "%s.tmp-XXXXXX", path);
    int fd = mkostemp(f->tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot create a temporary file: %s", path,
                       strerror(errno));
        afile_free(f);
        return rc;
    }
    f->f = fdopen(fd, "wb");
    if (!f->f) {
        rc = rs_seterr(e, RS_EINTERNAL, "%s: %s", f->tmp, strerror(errno));
        close(fd);
        unlink(f->tmp);
        afile_free(f);
        return rc;
    }
    *out = f;
    return RS_OK;
}

FILE *rs_afile_stream(rs_afile *f)
{
    return f->f;
}

const char *rs_afile_tmp_path(const rs_afile *f)
{
    return f->tmp;
}

void rs_afile_abort(rs_afile *f)
{
    if (!f)
        return;
    if (f->f)
        fclose(f->f);
    unlink(f->tmp);
    afile_free(f);
}

/* fsync of the directory holding path, so the rename survives a crash. */
static void sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(copy);
}

int rs_afile_commit(rs_afile *f, rs_error *e)
{
    int rc = RS_OK;
    mode_t mask = umask(0);
    umask(mask);
    if (fflush(f->f) != 0 || ferror(f->f))
        rc = rs_seterr(e, RS_EINTERNAL, "%s: write failed: %s", f->path, strerror(errno));
    else if (fchmod(fileno(f->f), 0666 & ~mask) != 0 || fsync(fileno(f->f)) != 0)
        rc = rs_seterr(e, RS_EINTERNAL, "%s: %s", f->path, strerror(errno));
    if (fclose(f->f) != 0 && rc == RS_OK)
        rc = rs_seterr(e, RS_EINTERNAL, "%s: write failed: %s", f->path, strerror(errno));
    f->f = NULL;
    /* the target may have changed while we wrote: check again just before the rename */
    if (rc == RS_OK)
        rc = rs_afile_check_target(f->path, e);
    if (rc == RS_OK && rename(f->tmp, f->path) != 0)
        rc = rs_seterr(e, RS_EINTERNAL, "%s: %s", f->path, strerror(errno));
    if (rc != RS_OK)
        unlink(f->tmp);
    else
        sync_dir(f->path);
    afile_free(f);
    return rc;
}

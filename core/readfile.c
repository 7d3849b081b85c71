/* readfile.c - whole input files into private memory (see readfile.h). */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALIGN 4096u

static const char *type_name(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
                                                                            : "a device";
}

int rs_open_regular(const char *path, const char *what, int *fd_out, struct stat *st,
                    rs_error *e)
{
    *fd_out = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return rs_seterr(e, errno == ENOENT ? RS_EUSAGE : RS_EINTERNAL,
                         "%s: cannot open %s: %s", path, what, strerror(errno));
    if (fstat(fd, st) != 0) {
        int rc = rs_seterr(e, RS_EINTERNAL, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return rs_seterr(e, RS_EDATA, "%s: not a regular file (%s); a %s must be one", path,
                         type_name(st->st_mode), what);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *fd_out = fd;
    return RS_OK;
}

static int same_state(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int rs_read_private(int fd, const char *path, const struct stat *st, void **out,
                    size_t *cap_out, rs_error *e)
{
    *out = NULL;
    *cap_out = 0;
    if (st->st_size < 0 || (uint64_t)st->st_size > SIZE_MAX / 2)
        return rs_seterr(e, RS_EDATA, "%s: file too large", path);
    size_t len = (size_t)st->st_size;
    size_t cap = (len + 1 + ALIGN - 1) / ALIGN * ALIGN;
    /* anonymous memory: nobody else can truncate it, and it is made read-only below */
    unsigned char *buf = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                              -1, 0);
    if (buf == MAP_FAILED)
        return rs_seterr(e, RS_EINTERNAL, "out of memory reading %s (%zu bytes)", path, len);
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    size_t got = 0;
    int err = 0;
    while (got < len) {
        size_t want = len - got > (1u << 30) ? (1u << 30) : len - got;
        ssize_t n = pread(fd, buf + got, want, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = errno;
            break;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (err) {
        munmap(buf, cap);
        return rs_seterr(e, RS_EINTERNAL, "%s: read failed: %s", path, strerror(err));
    }
    unsigned char extra;
    struct stat after;
    if (got != len || pread(fd, &extra, 1, (off_t)len) != 0 || fstat(fd, &after) != 0 ||
        !same_state(st, &after)) {
        munmap(buf, cap);
        return rs_seterr(e, RS_EDATA, "%s: the file changed while it was being read (%zu of "
                         "%zu bytes; is another program rewriting it in place?)",
                         path, got, len);
    }
    buf[len] = 0;
    if (mprotect(buf, cap, PROT_READ) != 0) {
        err = errno;
        munmap(buf, cap);
        return rs_seterr(e, RS_EINTERNAL, "%s: %s", path, strerror(err));
    }
    *out = buf;
    *cap_out = cap;
    return RS_OK;
}

void rs_read_private_free(void *buf, size_t cap)
{
    if (buf)
        munmap(buf, cap);
}

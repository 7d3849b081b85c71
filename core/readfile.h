/* readfile.h - reading a whole input file into private memory, safely.
 *
 * For files we load whole (model files, word2vec files): the path is opened
 * O_NONBLOCK (a FIFO never blocks the reader) and must be a regular file (a FIFO,
 * device, socket or directory is refused by its type); the bytes are read into
 * private anonymous memory instead of being mapped, so another process that
 * truncates or rewrites the file in place (`cp other.rsm this.rsm`) can never raise
 * SIGBUS in the reader; a file that changes while it is read (size, times or inode
 * differ before and after, a short read, bytes past the end) is refused with
 * RS_EDATA.
 */
#ifndef RS_READFILE_H
#define RS_READFILE_H

#include <stddef.h>
#include <sys/stat.h>

#include "error.h"

/* Opens path for reading; *fd and *st on success.  what names the file in messages
 * ("model file", "word2vec file"): "PATH: cannot open model file: ..." (RS_EUSAGE when
 * absent), "PATH: not a regular file (a FIFO); a model file must be one" (RS_EDATA). */
int rs_open_regular(const char *path, const char *what, int *fd, struct stat *st,
                    rs_error *e);

/* Reads the st->st_size bytes of fd into new anonymous memory, 4096-byte aligned,
 * followed by one NUL byte, then made read-only (a stray write faults as it did on
 * the mapping of the file).  *out and *cap (its length) go to rs_read_private_free. */
int rs_read_private(int fd, const char *path, const struct stat *st, void **out,
                    size_t *cap, rs_error *e);
void rs_read_private_free(void *buf, size_t cap);

#endif

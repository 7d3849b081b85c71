/* atomicfile.h - writing a file so that readers see the old whole or the new whole.
 *
 * Every file recoscope writes for keeps (model files and their sidecars, exports, the
 * TUI's state file) goes through here:
 *   - the data goes to a temporary file created in the target's directory with
 *     mkostemp (O_CREAT|O_EXCL: never an existing file, never through a symlink);
 *   - the target, when it exists, must be a regular file: a FIFO, a device, a
 *     directory or a symbolic link is refused (it would be replaced by a regular
 *     file, or its target overwritten); "-" is not handled here (the caller writes
 *     to stdout itself);
 *   - commit flushes, fsyncs, gives the file the mode a plain creat(0666) would get
 *     under the umask, renames it over the target and fsyncs the directory; abort
 *     (or any failure) removes the temporary file.
 */
#ifndef RS_ATOMICFILE_H
#define RS_ATOMICFILE_H

#include <stdio.h>

#include "error.h"

typedef struct rs_afile rs_afile;

/* Starts writing path.  Errors (RS_EUSAGE for a target that is not a regular file,
 * RS_EINTERNAL for I/O) name the path. */
int rs_afile_open(const char *path, rs_afile **out, rs_error *e);
/* The stream to write to (binary; owned by f). */
FILE *rs_afile_stream(rs_afile *f);
/* The temporary file's path (for messages). */
const char *rs_afile_tmp_path(const rs_afile *f);
/* Flushes, syncs and renames over the target; frees f whatever happens.  A write
 * error seen on the stream (ferror) fails the commit. */
int rs_afile_commit(rs_afile *f, rs_error *e);
/* Closes and removes the temporary file; frees f (NULL is fine). */
void rs_afile_abort(rs_afile *f);

/* The target check alone: RS_OK when path is absent or a regular file. */
int rs_afile_check_target(const char *path, rs_error *e);

#endif

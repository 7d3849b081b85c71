/* fuzz_stream.h - feeding a target's input through a pipe, the way a user's
 * `import /dev/stdin`, a FIFO or a device is read (issue 11 item 13).  A thread writes
 * the bytes into a pipe; the code under test opens "/dev/fd/N".  fuzz_stream_end()
 * closes the read end first, so a writer the reader gave up on gets EPIPE and stops. */
#ifndef RS_FUZZ_STREAM_H
#define RS_FUZZ_STREAM_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct fuzz_stream {
    int rfd, wfd;
    const uint8_t *data;
    size_t size;
    pthread_t th;
    char path[32]; /* "/dev/fd/N" of the read end */
} fuzz_stream;

static void *fuzz_stream_writer(void *arg)
{
    fuzz_stream *s = arg;
    for (size_t off = 0; off < s->size;) {
        ssize_t w = write(s->wfd, s->data + off, s->size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(s->wfd);
    return NULL;
}

/* Starts writing data into a new pipe (aborts when it cannot: the harness failed). */
static inline void fuzz_stream_begin(fuzz_stream *s, const uint8_t *data, size_t size)
{
    int p[2];
    signal(SIGPIPE, SIG_IGN);
    if (pipe(p) != 0)
        abort();
    s->rfd = p[0];
    s->wfd = p[1];
    s->data = data;
    s->size = size;
    snprintf(s->path, sizeof s->path, "/dev/fd/%d", p[0]);
    if (pthread_create(&s->th, NULL, fuzz_stream_writer, s) != 0)
        abort();
}

static inline void fuzz_stream_end(fuzz_stream *s)
{
    close(s->rfd);
    pthread_join(s->th, NULL);
}

#endif

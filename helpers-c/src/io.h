/* Moving bytes between fds, done one way everywhere in the helper. */
#ifndef SKIFF_IO_H
#define SKIFF_IO_H

#include <stdbool.h>
#include <stddef.h>

/* Writes all of buf to fd: retries EINTR and short writes, and waits (poll)
 * while a non-blocking fd is full. false on any other error, errno set. */
bool io_write_all(int fd, const void *buf, size_t len);

/* Where drained bytes go. */
typedef void (*io_sink)(void *ctx, const char *buf, size_t len);

/* What is still readable on fd, without waiting for more: fd is made
 * non-blocking and read until EOF, EAGAIN (a process that outlived the
 * writer may hold it open) or an error (a pty master reads EIO once its
 * slave side is gone); each chunk goes to sink. No-op for fd < 0. */
void io_drain(int fd, io_sink sink, void *ctx);

#endif

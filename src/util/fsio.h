/* fsio.h - small durable file-system helpers.
 *
 * fsio_write_atomic is the one way jobsd replaces a file whose contents must
 * survive a crash: write a temporary file in the same directory, fsync it,
 * rename it over the target, fsync the directory (Slurm's save_buf_to_state).
 * A crash at any point leaves either the old or the new contents, never a mix.
 * All functions return 0 on success or a negative errno value, and are safe
 * from any thread.
 */
#ifndef JOBSD_UTIL_FSIO_H
#define JOBSD_UTIL_FSIO_H

#include <stddef.h>
#include <sys/types.h>

int fsio_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Creates (or truncates) path and writes data, without syncing: for files
 * whose loss in a crash is harmless, e.g. what a task reads when it starts.
 * O_NOFOLLOW: never writes through a symlink planted at path. */
int fsio_write_file(const char *path, const void *data, size_t len, mode_t mode);

/* Reads a whole regular file of at most max bytes into a NUL-terminated buffer
 * the caller frees. -EFBIG when the file is larger than max. */
int fsio_read_all(const char *path, size_t max, char **out, size_t *len);

/* mkdir -p; existing directories are fine. */
int fsio_mkdir_p(const char *path, mode_t mode);

int fsio_fsync_dir(const char *dir);

/* rm -r: removes path and everything under it, never following symlinks nor
 * crossing into other file systems. 0, or the first error (the rest is
 * still removed where possible); a missing path is fine. */
int fsio_remove_tree(const char *path);

/* Writes all of buf to fd, retrying short writes and EINTR. */
int fsio_write_full(int fd, const void *buf, size_t len);

#endif

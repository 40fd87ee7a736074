/* datadir.c - see datadir.h. */
#include "datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/fsio.h"

int datadir_open(struct datadir *d, const char *path, char *err, size_t errlen)
{
	d->lock_fd = -1;
	int rc = fsio_mkdir_p(path, 0700);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create data dir '%s': %s", path, strerror(-rc));
		return -1;
	}
	if (!realpath(path, d->path)) {
		snprintf(err, errlen, "cannot resolve data dir '%s': %s", path, strerror(errno));
		return -1;
	}
	char lock[PATH_MAX + 16], ws[PATH_MAX + 16];
	snprintf(lock, sizeof(lock), "%s/jobsd.lock", d->path);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open lock file '%s': %s", lock, strerror(errno));
		return -1;
	}
	/* A POSIX record lock, owned by this process alone: an flock belongs to
	 * the open file description, which a child caught between posix_spawn
	 * and exec still shares, so a restart right after kill -9 could find
	 * the data dir "in use" by a jobsd that is gone (seen in the crash
	 * test). jobsd never opens this file twice, which would drop it. */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, errlen, "data dir '%s' is in use by another jobsd%s%s%s", d->path,
			 *pid ? " (pid " : "", pid, *pid ? ")" : "");
		close(fd);
		return -1;
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		snprintf(err, errlen, "cannot write lock file '%s': %s", lock, strerror(errno));
		close(fd);
		return -1;
	}
	snprintf(ws, sizeof(ws), "%s/workspace", d->path);
	if ((rc = fsio_mkdir_p(ws, 0700)) < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", ws, strerror(-rc));
		close(fd);
		return -1;
	}
	d->lock_fd = fd;
	return 0;
}

void datadir_close(struct datadir *d)
{
	if (d->lock_fd >= 0)
		close(d->lock_fd); /* releases the lock */
	d->lock_fd = -1;
}

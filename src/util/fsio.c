/* fsio.c - see fsio.h. */
#include "util/fsio.h"

#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/rand.h"

int fsio_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fsio_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	int rc = fsio_write_full(fd, data, len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int fsio_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int dir_of(const char *path, char *out, size_t outlen)
{
	if (snprintf(out, outlen, "%s", path) >= (int)outlen)
		return -ENAMETOOLONG;
	char *d = dirname(out);
	if (d != out)
		memmove(out, d, strlen(d) + 1);
	return 0;
}

int fsio_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[4096], dir[4096], nonce[17];
	uint8_t raw[8];
	int rc;
	/* A random name per call: threads writing the same file never share a
	 * temporary, and O_EXCL|O_NOFOLLOW never follow a planted link. */
	if ((rc = rand_bytes(raw, sizeof(raw))) < 0)
		return rc;
	hex_encode(raw, sizeof(raw), nonce);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%s", path, nonce) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if ((rc = dir_of(path, dir, sizeof(dir))) < 0)
		return rc;

	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if ((rc = fsio_write_full(fd, data, len)) < 0)
		goto fail_close;
	if (fsync(fd) < 0) {
		rc = -errno;
		goto fail_close;
	}
	if (close(fd) < 0) {
		rc = -errno;
		goto fail_unlink;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto fail_unlink;
	}
	return fsio_fsync_dir(dir);

fail_close:
	close(fd);
fail_unlink:
	unlink(tmp);
	return rc;
}

int fsio_read_all(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = 0;
	char *buf = NULL;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		rc = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

/* mkdir that accepts an existing directory, and only a directory. */
static int mkdir_one(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int fsio_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir_one(buf, mode);
		if (rc < 0)
			return rc;
		*p = '/';
	}
	return mkdir_one(buf, mode);
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	int rc = type == FTW_DP ? rmdir(path) : unlink(path);
	return rc < 0 && errno != ENOENT ? -errno : 0;
}

int fsio_remove_tree(const char *path)
{
	int rc = nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (rc < 0 && errno == ENOENT)
		return 0;
	return rc < 0 ? -errno : rc;
}

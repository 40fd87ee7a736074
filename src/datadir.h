/* datadir.h - the data folder: its layout and its lock.
 *
 *   DIR/jobsd.db (+ -wal, -shm)   the SQLite store
 *   DIR/jobsd.lock                held (flock) by the running jobsd
 *   DIR/admin.token               the first admin token, mode 0600
 *   DIR/workspace/                Workspace API objects
 *
 * Only one jobsd may use a folder at a time: datadir_open takes an exclusive
 * flock that the kernel releases when the process dies, however it dies, so
 * a crash never leaves a stale lock behind. Start-up only, main thread.
 */
#ifndef JOBSD_DATADIR_H
#define JOBSD_DATADIR_H

#include <stddef.h>

struct datadir {
	char path[4096]; /* absolute */
	int lock_fd;
};

/* Creates the folder and its subfolders if needed and locks it. 0, or -1 with
 * err set (another jobsd holding the lock is reported with its pid). */
int datadir_open(struct datadir *d, const char *path, char *err, size_t errlen);
void datadir_close(struct datadir *d);

#endif

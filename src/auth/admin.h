/* admin.h - the first start: the user `admin` and its token.
 *
 * On a data dir that has never been bootstrapped, creates the admin user and
 * a token, writes the token to DIR/admin.token (mode 0600) and records the
 * bootstrap in the store. The file is written before the database commit: a
 * crash in between only means the next start bootstraps again and rewrites
 * the file, so the file and the store never disagree. Start-up only, before
 * the engine runs (it uses the store's transaction itself).
 */
#ifndef JOBSD_AUTH_ADMIN_H
#define JOBSD_AUTH_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* *created tells whether this call made the admin. 0, or -1 with err set. */
int admin_bootstrap(struct store *st, const char *data_dir, int64_t now_ms, bool *created,
		    char *err, size_t errlen);

#endif

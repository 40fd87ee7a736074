/* admin.c - see admin.h. */
#include "auth/admin.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/token.h"
#include "store/store.h"
#include "util/fsio.h"

#define BOOTSTRAP_KEY "bootstrap.admin"

static int create_admin(struct store *st, const char *file, int64_t now_ms, char *err,
			size_t errlen)
{
	struct store_user u = {.active = true, .admin = true, .created_ms = now_ms};
	snprintf(u.name, sizeof(u.name), "admin");
	snprintf(u.display_name, sizeof(u.display_name), "Administrator");
	int rc = store_user_insert(st, &u);
	if (rc == STORE_CONFLICT)
		rc = store_user_get_by_name(st, "admin", &u); /* a retried bootstrap */
	if (rc != STORE_OK) {
		snprintf(err, errlen, "cannot create user 'admin': %s", store_rc_name(rc));
		return -1;
	}
	struct store_token t;
	char value[TOKEN_LEN + 2];
	if (token_mint(&t, value, u.id, u.id, now_ms, 0, "created by jobsd at first start") < 0) {
		snprintf(err, errlen, "cannot make a token: no randomness");
		return -1;
	}
	if ((rc = store_token_insert(st, &t)) != STORE_OK ||
	    (rc = store_meta_set(st, BOOTSTRAP_KEY, "1")) != STORE_OK) {
		snprintf(err, errlen, "cannot store the admin token: %s", store_rc_name(rc));
		return -1;
	}
	size_t n = strlen(value);
	value[n] = '\n';
	rc = fsio_write_atomic(file, value, n + 1, 0600);
	memset(value, 0, sizeof(value));
	if (rc < 0) {
		snprintf(err, errlen, "cannot write '%s': %s", file, strerror(-rc));
		return -1;
	}
	return 0;
}

int admin_bootstrap(struct store *st, const char *data_dir, int64_t now_ms, bool *created,
		    char *err, size_t errlen)
{
	char flag[8];
	*created = false;
	int rc = store_meta_get(st, BOOTSTRAP_KEY, flag, sizeof(flag));
	if (rc == STORE_OK)
		return 0;
	if (rc != STORE_NOT_FOUND) {
		snprintf(err, errlen, "cannot read the store: %s", store_rc_name(rc));
		return -1;
	}
	char file[PATH_MAX];
	snprintf(file, sizeof(file), "%s/admin.token", data_dir);
	if ((rc = store_begin(st)) != STORE_OK) {
		snprintf(err, errlen, "cannot begin a transaction: %s", store_rc_name(rc));
		return -1;
	}
	if (create_admin(st, file, now_ms, err, errlen) < 0) {
		store_rollback(st);
		return -1;
	}
	if ((rc = store_commit(st)) != STORE_OK) {
		unlink(file);
		snprintf(err, errlen, "cannot commit the admin user: %s", store_rc_name(rc));
		return -1;
	}
	*created = true;
	return 0;
}

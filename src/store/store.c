/* store.c - dispatch from the store_* API to the chosen backend (store.h).
 * Nothing here knows SQL; backends do. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

const char *store_rc_name(int rc)
{
	switch (rc) {
	case STORE_OK: return "ok";
	case STORE_NOT_FOUND: return "not found";
	case STORE_CONFLICT: return "conflict";
	case STORE_EFULL: return "disk full";
	case STORE_EIO: return "I/O error";
	case STORE_EBUSY: return "busy";
	case STORE_ENOMEM: return "out of memory";
	default: return "error";
	}
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

int store_begin(struct store *st) { return st->ops->begin(st); }
int store_commit(struct store *st) { return st->ops->commit(st); }
void store_rollback(struct store *st) { st->ops->rollback(st); }
int store_savepoint(struct store *st) { return st->ops->savepoint(st); }
void store_savepoint_release(struct store *st) { st->ops->savepoint_release(st); }
void store_savepoint_rollback(struct store *st) { st->ops->savepoint_rollback(st); }
bool store_in_transaction(struct store *st) { return st->ops->in_transaction(st); }

int store_meta_get(struct store *st, const char *key, char *buf, size_t buflen)
{
	return st->ops->meta_get(st, key, buf, buflen);
}

int store_meta_set(struct store *st, const char *key, const char *value)
{
	return st->ops->meta_set(st, key, value);
}

int store_user_insert(struct store *st, struct store_user *u)
{
	return st->ops->user_insert(st, u);
}

int store_user_get(struct store *st, int64_t id, struct store_user *out)
{
	return st->ops->user_get(st, id, out);
}

int store_user_get_by_name(struct store *st, const char *name, struct store_user *out)
{
	return st->ops->user_get_by_name(st, name, out);
}

int store_user_list(struct store *st, int (*cb)(void *, const struct store_user *), void *arg)
{
	return st->ops->user_list(st, cb, arg);
}

int store_user_update(struct store *st, const struct store_user *u)
{
	return st->ops->user_update(st, u);
}

int store_user_delete(struct store *st, int64_t id) { return st->ops->user_delete(st, id); }

int store_token_insert(struct store *st, const struct store_token *t)
{
	return st->ops->token_insert(st, t);
}

int store_token_get(struct store *st, const char *id, struct store_token *out)
{
	return st->ops->token_get(st, id, out);
}

int store_token_list(struct store *st, int64_t user_id,
		     int (*cb)(void *, const struct store_token *), void *arg)
{
	return st->ops->token_list(st, user_id, cb, arg);
}

int store_token_delete(struct store *st, const char *id) { return st->ops->token_delete(st, id); }

void store_job_release(struct store_job *j)
{
	if (!j)
		return;
	free(j->creator);
	free(j->run_as);
	free(j->name_key);
	free(j->settings);
	free(j->settings_brief);
	memset(j, 0, sizeof(*j));
}

int store_job_insert(struct store *st, struct store_job *j) { return st->ops->job_insert(st, j); }

int store_job_get(struct store *st, int64_t job_id, struct store_job *out)
{
	return st->ops->job_get(st, job_id, out);
}

int store_job_update(struct store *st, const struct store_job *j)
{
	return st->ops->job_update(st, j);
}
int store_job_delete(struct store *st, int64_t job_id) { return st->ops->job_delete(st, job_id); }
int store_job_count(struct store *st, int64_t *count) { return st->ops->job_count(st, count); }

int store_job_list(struct store *st, const struct store_job_query *q,
		   int (*cb)(void *, const struct store_job *), void *arg)
{
	return st->ops->job_list(st, q, cb, arg);
}

void store_run_release(struct store_run *r)
{
	free(r->idem_token);
	free(r->doc);
	r->idem_token = r->doc = NULL;
}

int store_run_put(struct store *st, const struct store_run *r) { return st->ops->run_put(st, r); }

int store_run_get(struct store *st, int64_t run_id, struct store_run *out)
{
	return st->ops->run_get(st, run_id, out);
}

int store_run_children(struct store *st, int64_t parent_id,
		       int (*cb)(void *, const struct store_run *), void *arg)
{
	return st->ops->run_children(st, parent_id, cb, arg);
}

int store_run_list(struct store *st, const struct store_run_query *q,
		   int (*cb)(void *, const struct store_run *), void *arg)
{
	return st->ops->run_list(st, q, cb, arg);
}

int store_run_list_active(struct store *st, int (*cb)(void *, const struct store_run *), void *arg)
{
	return st->ops->run_list_active(st, cb, arg);
}

int store_run_delete(struct store *st, int64_t run_id) { return st->ops->run_delete(st, run_id); }

int store_run_by_token(struct store *st, const char *token, int64_t *run_id)
{
	return st->ops->run_by_token(st, token, run_id);
}

int store_counter_next(struct store *st, const char *name, int64_t *out)
{
	return st->ops->counter_next(st, name, out);
}

int store_job_reserve_id(struct store *st, int64_t *out) { return st->ops->job_reserve_id(st, out); }

int store_run_list_expired(struct store *st, int64_t before_ms, int limit,
			   int (*cb)(void *, const struct store_run *), void *arg)
{
	return st->ops->run_list_expired(st, before_ms, limit, cb, arg);
}

int store_trigger_put(struct store *st, const struct store_trigger *t)
{
	return st->ops->trigger_put(st, t);
}

int store_trigger_delete(struct store *st, int64_t job_id)
{
	return st->ops->trigger_delete(st, job_id);
}

int store_trigger_list(struct store *st, int (*cb)(void *arg, const struct store_trigger *t),
		       void *arg)
{
	return st->ops->trigger_list(st, cb, arg);
}

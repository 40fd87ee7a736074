/* engine.c - see engine.h.
 *
 * The queue is a mutex-protected singly linked list; the engine takes the
 * whole list at once (up to ENGINE_MAX_BATCH ops), so while one batch is
 * being committed the next one accumulates: that is the group commit. */
#include "engine/engine.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"

struct engine {
	struct store *store;
	pthread_t thread;
	pthread_mutex_t lock;
	int epfd, evfd; /* the loop waits in epfd; evfd wakes it */
	int tfd;	/* timerfd at the next due time of system-clock hooks */
	int64_t armed;	/* what tfd is armed for (INT64_MAX: disarmed) */
	struct engine_op *head, *tail;
	bool stopping;
	struct engine_hooks hooks[ENGINE_MAX_HOOKS];
	int nhooks;
};

static void wake(struct engine *e)
{
	uint64_t one = 1;
	/* A full counter (never in practice) still wakes the loop. */
	if (write(e->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("engine: cannot wake the loop: %s", strerror(errno));
}

void engine_wake(struct engine *e) { wake(e); }

static const struct clock *hook_clock(const struct engine_hooks *h)
{
	return h->clock ? h->clock : &clock_system;
}

/* Milliseconds until h's next timer (INT64_MAX: none). */
static int64_t hook_left(const struct engine_hooks *h)
{
	if (!h->next_timer)
		return INT64_MAX;
	int64_t due = h->next_timer(h->arg);
	return due == INT64_MAX ? INT64_MAX : due - clock_now_ms(hook_clock(h));
}

/* Arms the timerfd for wall-clock ms due (INT64_MAX: disarms it). */
static void arm(struct engine *e, int64_t due)
{
	if (due == e->armed)
		return;
	struct itimerspec its = {0};
	if (due != INT64_MAX)
		its.it_value = (struct timespec){due / 1000, due % 1000 * 1000000};
	if (timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		e->armed = due;
}

/* Milliseconds epoll may sleep: until the hooks' next timer. Hooks on the
 * system clock are woken by the timerfd, armed for their exact instant:
 * Linux stretches an epoll timeout by up to 0.1% (60 ms on a minute's
 * sleep), a timerfd by its slack only (50 us). Virtual clocks (tests) move
 * by engine_wake, so the timeout serves them. */
static int sleep_ms(struct engine *e)
{
	int64_t left = INT64_MAX, wall_due = INT64_MAX;
	for (int i = 0; i < e->nhooks; i++) {
		const struct engine_hooks *h = &e->hooks[i];
		if (e->tfd >= 0 && h->next_timer && hook_clock(h) == &clock_system) {
			int64_t due = h->next_timer(h->arg);
			wall_due = due < wall_due ? due : wall_due;
			continue;
		}
		int64_t l = hook_left(h);
		if (l < left)
			left = l;
	}
	if (e->tfd >= 0)
		arm(e, wall_due);
	if (left == INT64_MAX)
		return wall_due == INT64_MAX ? -1 : 60000; /* the timerfd wakes us */
	return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

static void pre_commit_all(struct engine *e, int *rc)
{
	for (int i = 0; i < e->nhooks && *rc == STORE_OK; i++)
		if (e->hooks[i].pre_commit && e->hooks[i].pre_commit(e->hooks[i].arg, e->store) != 0)
			*rc = STORE_EIO;
}

static void post_commit_all(struct engine *e, int rc)
{
	for (int i = 0; i < e->nhooks; i++)
		if (e->hooks[i].post_commit)
			e->hooks[i].post_commit(e->hooks[i].arg, rc);
}

/* Waits up to timeout ms (-1: until there is something to do), then fires
 * watches and due timers and drains the eventfd. Called without the queue
 * lock. */
static void wait_events(struct engine *e, int timeout)
{
	struct epoll_event ev[64];
	int n = epoll_wait(e->epfd, ev, 64, timeout);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr == NULL) {
			uint64_t v;
			if (read(e->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_error("engine: eventfd: %s", strerror(errno));
			continue;
		}
		if (ev[i].data.ptr == &e->tfd) {
			uint64_t v;
			if (read(e->tfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_error("engine: timerfd: %s", strerror(errno));
			e->armed = INT64_MAX; /* one-shot: it has fired */
			continue;
		}
		struct engine_watch *w = ev[i].data.ptr;
		w->cb(w);
	}
	for (int i = 0; i < e->nhooks; i++)
		if (hook_left(&e->hooks[i]) <= 0)
			e->hooks[i].timer(e->hooks[i].arg);
}

static struct engine_op *take_batch(struct engine *e)
{
	pthread_mutex_lock(&e->lock);
	if (e->head) {
		/* Writes keep coming: still look at events and timers between
		 * batches, or a busy API would hold back every firing. */
		pthread_mutex_unlock(&e->lock);
		wait_events(e, 0);
		pthread_mutex_lock(&e->lock);
	}
	while (!e->head && !e->stopping) {
		pthread_mutex_unlock(&e->lock);
		wait_events(e, sleep_ms(e));
		pthread_mutex_lock(&e->lock);
	}
	struct engine_op *batch = e->head, *last = e->head;
	for (int n = 1; last && last->next && n < ENGINE_MAX_BATCH; n++)
		last = last->next;
	if (last) {
		e->head = last->next;
		last->next = NULL;
		if (!e->head)
			e->tail = NULL;
	}
	pthread_mutex_unlock(&e->lock);
	return batch;
}

/* Runs one op inside its savepoint; returns its run code. */
static int run_one(struct store *st, struct engine_op *op)
{
	if (store_savepoint(st) != STORE_OK)
		return STORE_ERR;
	int rc = op->run(op, st);
	if (rc == 0)
		store_savepoint_release(st);
	else
		store_savepoint_rollback(st);
	return rc;
}

struct slot {
	struct engine_op *op;
	int run_rc, commit_rc;
};

/* Runs slots[from..n) in one transaction and returns where the next one
 * starts: n once this one committed (or failed to), or just past an op
 * whose failure aborted the whole transaction. SQLite does that on some
 * I/O errors (a full disk while spilling its cache): the ops run so far
 * lost their changes and are answered as failed commits, and the ops after
 * the culprit run again in a fresh transaction. Without this check they
 * would run outside any transaction, each committing on its own while being
 * told that nothing was written. */
static int run_transaction(struct engine *e, struct slot *s, int from, int n)
{
	int rc = store_begin(e->store);
	if (rc != STORE_OK) {
		log_error("engine: cannot begin a transaction: %s", store_rc_name(rc));
		for (int i = from; i < n; i++)
			s[i] = (struct slot){s[i].op, 0, rc};
		return n;
	}
	int64_t t0 = clock_mono_us(&clock_system);
	for (int i = from; i < n; i++) {
		s[i].run_rc = run_one(e->store, s[i].op);
		if (!store_in_transaction(e->store)) {
			log_error("engine: a write aborted its transaction: %d writes failed, %d run "
				  "again",
				  i - from + 1, n - i - 1);
			store_rollback(e->store);
			for (int k = from; k <= i; k++)
				s[k].commit_rc = STORE_EIO;
			post_commit_all(e, STORE_EIO);
			return i + 1;
		}
	}
	int64_t t1 = clock_mono_us(&clock_system);
	rc = STORE_OK;
	pre_commit_all(e, &rc);
	if (rc != STORE_OK) {
		log_error("engine: writing run state failed; the batch is rolled back");
		store_rollback(e->store);
	}
	if (rc == STORE_OK)
		rc = store_commit(e->store);
	post_commit_all(e, rc);
	log_debug("engine: batch of %d: run %lld us, commit %lld us", n - from,
		  (long long)(t1 - t0), (long long)(clock_mono_us(&clock_system) - t1));
	if (rc != STORE_OK)
		log_error("engine: commit of %d writes failed: %s", n - from, store_rc_name(rc));
	for (int i = from; i < n; i++)
		s[i].commit_rc = rc;
	return n;
}

static void run_batch(struct engine *e, struct engine_op *batch)
{
	struct slot slots[ENGINE_MAX_BATCH];
	int n = 0;
	for (struct engine_op *op = batch; op; op = op->next)
		slots[n++] = (struct slot){op, 0, STORE_OK};
	for (int start = 0; start < n;)
		start = run_transaction(e, slots, start, n);
	/* done() may free the op; nothing reads it afterwards. */
	for (int i = 0; i < n; i++)
		slots[i].op->done(slots[i].op, slots[i].run_rc, slots[i].commit_rc);
}

static void *engine_main(void *arg)
{
	struct engine *e = arg;
	for (;;) {
		struct engine_op *batch = take_batch(e);
		if (!batch)
			break; /* stopping and drained */
		run_batch(e, batch);
	}
	return NULL;
}

int engine_start(struct engine **out, struct store *st)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	e->store = st;
	e->tfd = -1;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	e->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (e->epfd < 0 || e->evfd < 0 || epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->evfd, &ev) < 0)
		goto fail;
	/* Without a timerfd, timers fall back to epoll's (coarser) timeout. */
	e->armed = INT64_MAX;
	e->tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	struct epoll_event tev = {.events = EPOLLIN, .data.ptr = &e->tfd};
	if (e->tfd >= 0 && epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->tfd, &tev) < 0) {
		close(e->tfd);
		e->tfd = -1;
	}
	pthread_mutex_init(&e->lock, NULL);
	if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
		pthread_mutex_destroy(&e->lock);
		goto fail;
	}
	*out = e;
	return 0;
fail:
	if (e->tfd >= 0)
		close(e->tfd);
	if (e->epfd >= 0)
		close(e->epfd);
	if (e->evfd >= 0)
		close(e->evfd);
	free(e);
	return -1;
}

int engine_add_hooks(struct engine *e, const struct engine_hooks *h)
{
	int rc = -1;
	pthread_mutex_lock(&e->lock);
	if (e->nhooks < ENGINE_MAX_HOOKS) {
		e->hooks[e->nhooks++] = *h;
		rc = 0;
	}
	pthread_mutex_unlock(&e->lock);
	wake(e);
	return rc;
}

int engine_watch(struct engine *e, struct engine_watch *w)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
	return epoll_ctl(e->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0 ? -errno : 0;
}

void engine_unwatch(struct engine *e, struct engine_watch *w)
{
	epoll_ctl(e->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

void engine_submit(struct engine *e, struct engine_op *op)
{
	op->next = NULL;
	pthread_mutex_lock(&e->lock);
	if (e->tail)
		e->tail->next = op;
	else
		e->head = op;
	e->tail = op;
	pthread_mutex_unlock(&e->lock);
	wake(e);
}

/* engine_run_sync: wraps the caller's done() to signal a waiting thread. */
struct sync_op {
	struct engine_op op;
	struct engine_op *inner;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool finished;
	int rc;
};

static int sync_run(struct engine_op *op, struct store *st)
{
	struct sync_op *s = (struct sync_op *)op;
	return s->inner->run(s->inner, st);
}

static void sync_done(struct engine_op *op, int run_rc, int commit_rc)
{
	struct sync_op *s = (struct sync_op *)op;
	if (s->inner->done)
		s->inner->done(s->inner, run_rc, commit_rc);
	pthread_mutex_lock(&s->lock);
	s->rc = run_rc ? run_rc : commit_rc;
	s->finished = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

int engine_run_sync(struct engine *e, struct engine_op *op)
{
	struct sync_op s = {.op = {.run = sync_run, .done = sync_done}, .inner = op};
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	engine_submit(e, &s.op);
	pthread_mutex_lock(&s.lock);
	while (!s.finished)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.cond);
	return s.rc;
}

void engine_stop(struct engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = true;
	pthread_mutex_unlock(&e->lock);
	wake(e);
	pthread_join(e->thread, NULL);
	pthread_mutex_destroy(&e->lock);
	close(e->epfd);
	close(e->evfd);
	if (e->tfd >= 0)
		close(e->tfd);
	free(e);
}

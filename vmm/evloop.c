/* SPDX-License-Identifier: MIT */
#include "evloop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

uint64_t evloop_now_ns(void *unused)
{
	struct timespec ts;

	(void)unused;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now(struct evloop *l)
{
	return l->clock(l->clock_opaque);
}

uint64_t evloop_time(struct evloop *l)
{
	return now(l);
}

static void wake_on_fd(void *opaque)
{
	struct evloop *l = opaque;
	uint64_t v;

	if (read(l->wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: someone else drained it; nothing to do. */
	}
	atomic_store(&l->woken, false);
}

static bool wake_on_poll(void *opaque)
{
	struct evloop *l = opaque;

	return atomic_exchange(&l->woken, false);
}

/* ---- timers ---------------------------------------------------------------- */

/* Point the timerfd at the earliest armed deadline (or disarm it). */
static void timer_fd_update(struct evloop *l)
{
	uint64_t next = 0;
	struct itimerspec its = { 0 };

	for (unsigned i = 0; i < l->nr_timers; i++)
		if (!next || l->timers[i]->deadline < next)
			next = l->timers[i]->deadline;
	if (next == l->timer_fd_deadline)
		return;
	l->timer_fd_deadline = next;
	if (next) {
		/* Absolute CLOCK_MONOTONIC: the default loop clock.  A fake clock
		 * (tests) runs timers from the poll path only. */
		its.it_value.tv_sec = (time_t)(next / 1000000000ull);
		its.it_value.tv_nsec = (long)(next % 1000000000ull);
	}
	timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

int evloop_timer_arm(struct evloop *l, struct evloop_timer *t, uint64_t deadline)
{
	if (!deadline)
		deadline = 1;   /* 0 means "disarmed" to timer_fd_update */
	if (!t->armed) {
		if (l->nr_timers == EVLOOP_MAX_TIMERS)
			return -ENOSPC;
		l->timers[l->nr_timers++] = t;
		t->armed = true;
	}
	t->deadline = deadline;
	timer_fd_update(l);
	return 0;
}

void evloop_timer_cancel(struct evloop *l, struct evloop_timer *t)
{
	if (!t->armed)
		return;
	for (unsigned i = 0; i < l->nr_timers; i++)
		if (l->timers[i] == t) {
			l->timers[i] = l->timers[--l->nr_timers];
			break;
		}
	t->armed = false;
	timer_fd_update(l);
}

/* Run the expired timers; true if any ran. */
static bool timers_run(struct evloop *l)
{
	uint64_t t = now(l);
	bool ran = false;

	for (unsigned i = 0; i < l->nr_timers;) {
		struct evloop_timer *tm = l->timers[i];
		if (tm->deadline > t) {
			i++;
			continue;
		}
		l->timers[i] = l->timers[--l->nr_timers];
		tm->armed = false;
		l->st.timer_fires++;
		tm->fn(tm->opaque);   /* may re-arm: it goes to the end of the array */
		ran = true;
	}
	if (ran || !l->nr_timers)
		timer_fd_update(l);
	return ran;
}

static void timer_on_fd(void *opaque)
{
	struct evloop *l = opaque;
	uint64_t v;

	if (read(l->timer_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already consumed; the deadlines decide anyway. */
	}
	l->timer_fd_deadline = 0;   /* it fired: re-arm for what is left */
	timers_run(l);
	timer_fd_update(l);
}

static bool timer_on_poll(void *opaque)
{
	struct evloop *l = opaque;

	return l->nr_timers && timers_run(l);
}

int evloop_init(struct evloop *l)
{
	struct poll_params off = { 0 };

	memset(l, 0, sizeof(*l));
	l->defer_tail = &l->defer_head;
	l->clock = evloop_now_ns;
	l->contention_read = contention_read_nivcsw;
	poll_policy_init(&l->policy, &off);
	contention_init(&l->cont);
	l->wake_fd = l->timer_fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake_fd < 0)
		goto fail;
	l->wake_h = (struct evloop_handler){
		.fd = l->wake_fd, .on_fd = wake_on_fd, .on_poll = wake_on_poll,
		.opaque = l, .name = "wake",
	};
	if (evloop_add(l, &l->wake_h))
		goto fail;
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->timer_fd < 0)
		goto fail;
	l->timer_h = (struct evloop_handler){
		.fd = l->timer_fd, .on_fd = timer_on_fd, .on_poll = timer_on_poll,
		.opaque = l, .name = "timer",
	};
	if (evloop_add(l, &l->timer_h))
		goto fail;
	return 0;
fail:
	{
		int r = -errno;
		evloop_destroy(l);
		return r ? r : -ENOMEM;
	}
}

void evloop_destroy(struct evloop *l)
{
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	if (l->epfd >= 0)
		close(l->epfd);
	l->wake_fd = l->timer_fd = l->epfd = -1;
}

void evloop_set_poll(struct evloop *l, const struct poll_params *p, bool contention_aware)
{
	poll_policy_init(&l->policy, p);
	l->contention_aware = contention_aware;
	/* Every pollable source starts in the poll set with a fresh deadline. */
	for (unsigned i = 0; i < l->nr_poll; i++)
		l->poll_set[i]->idle_deadline = now(l) + p->idle_ns;
}

/* ---- the poll set ------------------------------------------------------ */

static void poll_set_add(struct evloop *l, struct evloop_handler *h, uint64_t t)
{
	h->idle_deadline = t + l->policy.p.idle_ns;
	if (!h->on_poll || h->poll_slot >= 0)
		return;
	h->poll_slot = (int)l->nr_poll;
	l->poll_set[l->nr_poll++] = h;
	if (l->poll_started) {
		if (h->on_poll_begin)
			h->on_poll_begin(h->opaque);
		h->poll_begun = true;
		h->st.poll_begins++;
	}
}

/* Take h out of the poll set; returns 1 if its final re-check did work. */
static int poll_set_remove(struct evloop *l, struct evloop_handler *h, bool end)
{
	unsigned i = (unsigned)h->poll_slot;
	int progress = 0;

	if (h->poll_slot < 0)
		return 0;
	l->poll_set[i] = l->poll_set[--l->nr_poll];
	l->poll_set[i]->poll_slot = (int)i;
	h->poll_slot = -1;
	if (h->poll_begun) {
		h->poll_begun = false;
		/* Notifications back on, then one last look: an event that came
		 * between the last poll and the re-enable has no fd wake-up. */
		if (end && h->on_poll_end && h->on_poll_end(h->opaque)) {
			h->st.poll_end_hits++;
			progress = 1;
		}
	}
	return progress;
}

int evloop_add(struct evloop *l, struct evloop_handler *h)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = h };

	if (l->nr_handlers >= EVLOOP_MAX_HANDLERS || !h->on_fd || h->fd < 0)
		return -EINVAL;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0)
		return -errno;
	h->loop = l;
	h->poll_slot = -1;
	h->poll_begun = false;
	l->handlers[l->nr_handlers++] = h;
	if (h->on_poll) {
		l->nr_pollable++;
		poll_set_add(l, h, now(l));
	}
	return 0;
}

int evloop_del(struct evloop *l, struct evloop_handler *h)
{
	for (unsigned i = 0; i < l->nr_handlers; i++) {
		if (l->handlers[i] != h)
			continue;
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
		l->handlers[i] = l->handlers[--l->nr_handlers];
		if (h->on_poll) {
			l->nr_pollable--;
			/* Going away: its notifications do not matter any more. */
			poll_set_remove(l, h, false);
		}
		h->loop = NULL;
		return 0;
	}
	return -ENOENT;
}

static void evloop_run_deferred(struct evloop *l)
{
	/* A deferred call may defer another (completion -> irq): loop until empty. */
	while (l->defer_head) {
		struct evloop_defer *d = l->defer_head;
		l->defer_head = d->next;
		if (!l->defer_head)
			l->defer_tail = &l->defer_head;
		d->queued = false;
		l->st.deferred++;
		d->fn(d->opaque);
	}
}

/* ---- poll mode ------------------------------------------------------------ */

/* Enter poll mode: the sources in the poll set may stop notifying. */
static void evloop_poll_begin_all(struct evloop *l)
{
	l->poll_started = true;
	l->st.poll_starts++;
	for (unsigned i = 0; i < l->nr_poll; i++) {
		struct evloop_handler *h = l->poll_set[i];
		if (h->poll_begun)
			continue;
		if (h->on_poll_begin)
			h->on_poll_begin(h->opaque);
		h->poll_begun = true;
		h->st.poll_begins++;
	}
}

/* Leave poll mode before blocking: notifications on, one re-check each. */
static int evloop_poll_end_all(struct evloop *l)
{
	int progress = 0;

	l->poll_started = false;
	l->st.poll_stops++;
	for (unsigned i = 0; i < l->nr_poll; i++) {
		struct evloop_handler *h = l->poll_set[i];
		if (!h->poll_begun)
			continue;
		h->poll_begun = false;
		if (h->on_poll_end && h->on_poll_end(h->opaque)) {
			h->st.poll_end_hits++;
			h->idle_deadline = now(l) + l->policy.p.idle_ns;
			progress++;
		}
	}
	if (progress)
		l->st.poll_stop_hits++;
	return progress;
}

void evloop_poll_stop(struct evloop *l)
{
	if (l->poll_started) {
		evloop_poll_end_all(l);
		evloop_run_deferred(l);
	}
}

/*
 * One poll window: pass over the poll set until a source has work or the
 * window closes.  *hit_at: when the pass that found work started (the
 * "block time" polling saw), or the end of the window.
 */
static int evloop_poll(struct evloop *l, uint64_t t0, uint64_t window, uint64_t *hit_at)
{
	uint64_t t = t0;
	int progress = 0;

	l->st.poll_windows++;
	contention_polled(&l->cont);
	for (;;) {
		l->st.polls++;
		for (unsigned i = 0; i < l->nr_poll; i++) {
			struct evloop_handler *h = l->poll_set[i];
			if (h->on_poll(h->opaque)) {
				h->st.poll_hits++;
				h->idle_deadline = t + l->policy.p.idle_ns;
				progress++;
			}
		}
		if (progress)
			break;
		t = now(l);
		if (t - t0 >= window)
			break;
	}
	*hit_at = t;
	l->st.polled_ns += t - t0;
	if (progress)
		l->st.poll_hits++;
	else
		l->st.poll_misses++;
	return progress;
}

/* Sources without progress for idle_ns fall back to their fd: many idle disks cost nothing. */
static int evloop_remove_idle(struct evloop *l, uint64_t t)
{
	int progress = 0;

	if (!l->policy.p.idle_ns)
		return 0;
	for (unsigned i = l->nr_poll; i-- > 0;) {
		struct evloop_handler *h = l->poll_set[i];
		if (t < h->idle_deadline)
			continue;
		h->st.poll_removals++;
		l->st.poll_removals++;
		progress += poll_set_remove(l, h, true);
	}
	return progress;
}

static int evloop_dispatch(struct evloop *l, struct epoll_event *ev, int n, uint64_t t)
{
	for (int i = 0; i < n; i++) {
		struct evloop_handler *h = ev[i].data.ptr;
		h->st.fd_events++;
		l->st.events++;
		h->on_fd(h->opaque);
		/* Activity: a source that waited on its fd only polls again. */
		if (h->on_poll && h->poll_slot < 0 && l->policy.p.max_ns) {
			h->st.poll_adds++;
			l->st.poll_adds++;
		}
		if (h->loop == l)
			poll_set_add(l, h, t);
	}
	return n;
}

static bool evloop_may_poll(struct evloop *l, uint64_t t, int timeout_ms, uint64_t *window)
{
	uint64_t w = l->policy.poll_ns;

	if (!l->policy.p.max_ns || !w || !l->nr_poll || timeout_ms == 0)
		return false;
	/* Never poll while a source exists that only its fd can report: polling
	 * must not delay what it cannot see. */
	if (l->nr_pollable != l->nr_handlers)
		return false;
	if (l->contention_aware && !contention_allows(&l->cont, t))
		return false;
	if (timeout_ms > 0 && (uint64_t)timeout_ms * 1000000ull < w)
		w = (uint64_t)timeout_ms * 1000000ull;
	*window = w;
	return true;
}

static void evloop_adjust(struct evloop *l, uint64_t block_ns)
{
	if (!l->policy.p.max_ns)
		return;
	switch (poll_policy_adjust(&l->policy, block_ns)) {
	case POLL_GREW: l->st.poll_grows++; break;
	case POLL_SHRANK: l->st.poll_shrinks++; break;
	case POLL_KEPT: break;
	}
}

static void evloop_contention(struct evloop *l, uint64_t t)
{
	/* Only a polling loop samples. */
	if (!l->contention_aware || !l->policy.p.max_ns)
		return;
	if (!contention_due(&l->cont, t))
		return;
	uint64_t before = evloop_now_ns(NULL);
	uint64_t v = l->contention_read(l->contention_opaque);
	if (l->cont.armed) {
		l->st.contention_samples++;
		l->st.contention_sample_ns += evloop_now_ns(NULL) - before;
	}
	if (contention_feed(&l->cont, t, v))
		l->st.contention_backoffs++;
}

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event ev[32];
	uint64_t t0 = now(l), t, window;
	int n, progress = 0;

	l->st.iterations++;
	if (evloop_may_poll(l, t0, timeout_ms, &window)) {
		uint64_t hit_at;

		if (!l->poll_started)
			evloop_poll_begin_all(l);
		progress = evloop_poll(l, t0, window, &hit_at);
		t = now(l);
		progress += evloop_remove_idle(l, t);
		if (progress) {
			/* Sources outside the poll set: a cheap look now and then. */
			if (l->nr_poll < l->nr_handlers && t - l->last_fd_check >= EVLOOP_FD_CHECK_NS) {
				l->last_fd_check = t;
				l->st.fd_checks++;
				n = epoll_wait(l->epfd, ev, 32, 0);
				if (n > 0)
					progress += evloop_dispatch(l, ev, n, t);
			}
			evloop_run_deferred(l);
			evloop_adjust(l, hit_at - t0);
			evloop_contention(l, t);
			return progress;
		}
	}
	/* About to sleep: notifications back on, and the re-check that catches
	 * what was published while they were off. */
	if (l->poll_started)
		progress += evloop_poll_end_all(l);
	if (!progress && timeout_ms != 0)
		l->st.waits++;
	n = epoll_wait(l->epfd, ev, 32, progress ? 0 : timeout_ms);
	t = now(l);
	if (n < 0) {
		int r = -errno;
		evloop_run_deferred(l);
		return r == -EINTR ? progress : r;
	}
	if (n > 0) {
		l->st.wakeups++;
		l->last_fd_check = t;
		progress += evloop_dispatch(l, ev, n, t);
	}
	evloop_run_deferred(l);
	evloop_adjust(l, t - t0);
	evloop_contention(l, t);
	return progress;
}

void evloop_wake(struct evloop *l)
{
	uint64_t one = 1;

	atomic_store(&l->woken, true);
	if (write(l->wake_fd, &one, sizeof(one)) < 0) {
		/* Only EAGAIN at a saturated counter: a wake-up is pending anyway. */
	}
}

/* SPDX-License-Identifier: MIT */
#include "evloop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

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

int evloop_init(struct evloop *l)
{
	memset(l, 0, sizeof(*l));
	l->defer_tail = &l->defer_head;
	l->wake_fd = -1;
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
	if (l->epfd >= 0)
		close(l->epfd);
	l->wake_fd = l->epfd = -1;
}

int evloop_add(struct evloop *l, struct evloop_handler *h)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = h };

	if (l->nr_handlers >= EVLOOP_MAX_HANDLERS || !h->on_fd || h->fd < 0)
		return -EINVAL;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0)
		return -errno;
	h->loop = l;
	l->handlers[l->nr_handlers++] = h;
	if (h->on_poll)
		l->nr_pollable++;
	return 0;
}

int evloop_del(struct evloop *l, struct evloop_handler *h)
{
	for (unsigned i = 0; i < l->nr_handlers; i++) {
		if (l->handlers[i] != h)
			continue;
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
		l->handlers[i] = l->handlers[--l->nr_handlers];
		if (h->on_poll)
			l->nr_pollable--;
		h->loop = NULL;
		return 0;
	}
	return -ENOENT;
}

void evloop_defer(struct evloop *l, struct evloop_defer *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = NULL;
	*l->defer_tail = d;
	l->defer_tail = &d->next;
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Poll every source until one has work or poll_ns passes. */
static int evloop_poll(struct evloop *l)
{
	uint64_t deadline = now_ns() + l->poll_ns;
	int progress = 0;

	do {
		l->st.polls++;
		for (unsigned i = 0; i < l->nr_handlers; i++) {
			struct evloop_handler *h = l->handlers[i];
			if (h->on_poll(h->opaque)) {
				h->poll_hits++;
				progress++;
			}
		}
	} while (!progress && now_ns() < deadline);
	if (progress)
		l->st.poll_hits++;
	return progress;
}

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event ev[32];
	int n, progress = 0;

	l->st.iterations++;
	if (l->poll_ns && l->nr_pollable == l->nr_handlers) {
		progress = evloop_poll(l);
		if (progress) {
			evloop_run_deferred(l);
			return progress;
		}
	}
	l->st.waits++;
	n = epoll_wait(l->epfd, ev, 32, timeout_ms);
	if (n < 0) {
		int r = -errno;
		evloop_run_deferred(l);
		return r == -EINTR ? 0 : r;
	}
	if (n > 0)
		l->st.wakeups++;
	for (int i = 0; i < n; i++) {
		struct evloop_handler *h = ev[i].data.ptr;
		h->fd_events++;
		l->st.events++;
		h->on_fd(h->opaque);
		progress++;
	}
	evloop_run_deferred(l);
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

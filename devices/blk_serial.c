/* SPDX-License-Identifier: MIT */
#include "blk_serial.h"

#include <errno.h>

enum { SER_NONE, SER_FAST, SER_ACTIVE, SER_WAITING };

int blk_serial_init(struct blk_serial *s, void (*resume)(struct blk_serial_req *req))
{
	int r = pthread_mutex_init(&s->lock, NULL);

	if (r)
		return -r;
	atomic_init(&s->fast, 0);
	atomic_init(&s->serialising, 0);
	atomic_init(&s->waits, 0);
	s->active = NULL;
	s->wait_head = NULL;
	s->wait_tail = &s->wait_head;
	s->resume = resume;
	return 0;
}

void blk_serial_destroy(struct blk_serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

static bool conflicts(const struct blk_serial_req *a, const struct blk_serial_req *b)
{
	return (a->rmw || b->rmw) && a->start < b->end && b->start < a->end;
}

/* May req start now?  Against what runs and what waits ahead of it (lock held). */
static bool may_start(struct blk_serial *s, const struct blk_serial_req *req,
		      const struct blk_serial_req *ahead_end)
{
	/* Pairs with the fetch_sub of fast in fast_put(): see the header. */
	if (req->rmw && atomic_load(&s->fast))
		return false;
	for (const struct blk_serial_req *a = s->active; a; a = a->next)
		if (conflicts(a, req))
			return false;
	for (const struct blk_serial_req *w = s->wait_head; w && w != ahead_end; w = w->next)
		if (conflicts(w, req))
			return false;
	return true;
}

/* Move every waiter that may start now to the active list; return them, linked by run_next. */
static struct blk_serial_req *wake_waiters(struct blk_serial *s)
{
	struct blk_serial_req *run = NULL, **run_tail = &run;
	struct blk_serial_req **pp = &s->wait_head;

	while (*pp) {
		struct blk_serial_req *w = *pp;
		if (!may_start(s, w, w)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		if (!*pp)
			s->wait_tail = pp;
		w->state = SER_ACTIVE;
		w->next = s->active;
		s->active = w;
		w->run_next = NULL;
		*run_tail = w;
		run_tail = &w->run_next;
	}
	return run;
}

static void resume_all(struct blk_serial *s, struct blk_serial_req *run)
{
	while (run) {
		struct blk_serial_req *n = run->run_next;
		s->resume(run);
		run = n;
	}
}

/* An untracked write ended: the last one lets a waiting RMW start. */
static void fast_put(struct blk_serial *s)
{
	/* seq_cst: pairs with the RMW's increment of serialising before its
	 * read of fast (may_start): one of the two sees the other. */
	if (atomic_fetch_sub(&s->fast, 1) != 1 || !atomic_load(&s->serialising))
		return;
	pthread_mutex_lock(&s->lock);
	struct blk_serial_req *run = wake_waiters(s);
	pthread_mutex_unlock(&s->lock);
	resume_all(s, run);
}

bool blk_serial_begin(struct blk_serial *s, struct blk_serial_req *req, uint64_t start, uint64_t end,
		      bool rmw)
{
	struct blk_serial_req *run = NULL;
	bool go;

	req->start = start;
	req->end = end;
	req->rmw = rmw;
	req->next = NULL;
	if (!rmw) {
		/* seq_cst: pairs with the RMW's increment of serialising
		 * followed by its read of fast (may_start). */
		atomic_fetch_add(&s->fast, 1);
		if (!atomic_load(&s->serialising)) {
			req->state = SER_FAST;
			return true;
		}
	}
	pthread_mutex_lock(&s->lock);
	if (rmw)
		atomic_fetch_add(&s->serialising, 1);
	else
		/* Tracked from here on instead; an RMW may be waiting for fast
		 * to drain (woken below, under the same lock). */
		atomic_fetch_sub(&s->fast, 1);
	go = may_start(s, req, NULL);
	if (go) {
		req->state = SER_ACTIVE;
		req->next = s->active;
		s->active = req;
	} else {
		req->state = SER_WAITING;
		*s->wait_tail = req;
		s->wait_tail = &req->next;
		atomic_fetch_add_explicit(&s->waits, 1, memory_order_relaxed);
	}
	if (!rmw)
		run = wake_waiters(s);
	pthread_mutex_unlock(&s->lock);
	resume_all(s, run);
	return go;
}

void blk_serial_end(struct blk_serial *s, struct blk_serial_req *req)
{
	struct blk_serial_req *run;

	if (req->state == SER_FAST) {
		req->state = SER_NONE;
		fast_put(s);
		return;
	}
	if (req->state != SER_ACTIVE)
		return;
	pthread_mutex_lock(&s->lock);
	for (struct blk_serial_req **pp = &s->active; *pp; pp = &(*pp)->next)
		if (*pp == req) {
			*pp = req->next;
			break;
		}
	req->state = SER_NONE;
	if (req->rmw)
		atomic_fetch_sub(&s->serialising, 1);
	run = wake_waiters(s);
	pthread_mutex_unlock(&s->lock);
	resume_all(s, run);
}

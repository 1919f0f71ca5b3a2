/* SPDX-License-Identifier: MIT */
#include "blk_serial.h"
#include "blk.h"

#include <errno.h>

enum { SER_NONE, SER_FAST, SER_ACTIVE, SER_WAITING };

int blk_serial_init(struct blk_serial *s, void (*resume)(struct blk_io *io))
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

static bool conflicts(const struct blk_io *a, const struct blk_io *b)
{
	return (a->ser_rmw || b->ser_rmw) && a->ser_start < b->ser_end && b->ser_start < a->ser_end;
}

/* May io start now?  Against what runs and what waits ahead of it (lock held). */
static bool may_start(struct blk_serial *s, const struct blk_io *io, const struct blk_io *ahead_end)
{
	/* Pairs with the fetch_sub of fast in fast_put(): see the header. */
	if (io->ser_rmw && atomic_load(&s->fast))
		return false;
	for (const struct blk_io *a = s->active; a; a = a->ser_next)
		if (conflicts(a, io))
			return false;
	for (const struct blk_io *w = s->wait_head; w && w != ahead_end; w = w->ser_next)
		if (conflicts(w, io))
			return false;
	return true;
}

/* Move every waiter that may start now to the active list; return them, linked by next. */
static struct blk_io *wake_waiters(struct blk_serial *s)
{
	struct blk_io *run = NULL, **run_tail = &run;
	struct blk_io **pp = &s->wait_head;

	while (*pp) {
		struct blk_io *w = *pp;
		if (!may_start(s, w, w)) {
			pp = &w->ser_next;
			continue;
		}
		*pp = w->ser_next;
		if (!*pp)
			s->wait_tail = pp;
		w->ser_state = SER_ACTIVE;
		w->ser_next = s->active;
		s->active = w;
		w->next = NULL;
		*run_tail = w;
		run_tail = &w->next;
	}
	return run;
}

static void resume_all(struct blk_serial *s, struct blk_io *run)
{
	while (run) {
		struct blk_io *n = run->next;
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
	struct blk_io *run = wake_waiters(s);
	pthread_mutex_unlock(&s->lock);
	resume_all(s, run);
}

bool blk_serial_begin(struct blk_serial *s, struct blk_io *io, uint64_t start, uint64_t end,
		      bool rmw)
{
	struct blk_io *run = NULL;
	bool go;

	io->ser_start = start;
	io->ser_end = end;
	io->ser_rmw = rmw;
	io->ser_next = NULL;
	if (!rmw) {
		/* seq_cst: pairs with the RMW's increment of serialising
		 * followed by its read of fast (may_start). */
		atomic_fetch_add(&s->fast, 1);
		if (!atomic_load(&s->serialising)) {
			io->ser_state = SER_FAST;
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
	go = may_start(s, io, NULL);
	if (go) {
		io->ser_state = SER_ACTIVE;
		io->ser_next = s->active;
		s->active = io;
	} else {
		io->ser_state = SER_WAITING;
		*s->wait_tail = io;
		s->wait_tail = &io->ser_next;
		atomic_fetch_add_explicit(&s->waits, 1, memory_order_relaxed);
	}
	if (!rmw)
		run = wake_waiters(s);
	pthread_mutex_unlock(&s->lock);
	resume_all(s, run);
	return go;
}

void blk_serial_end(struct blk_serial *s, struct blk_io *io)
{
	struct blk_io *run;

	if (io->ser_state == SER_FAST) {
		io->ser_state = SER_NONE;
		fast_put(s);
		return;
	}
	if (io->ser_state != SER_ACTIVE)
		return;
	pthread_mutex_lock(&s->lock);
	for (struct blk_io **pp = &s->active; *pp; pp = &(*pp)->ser_next)
		if (*pp == io) {
			*pp = io->ser_next;
			break;
		}
	io->ser_state = SER_NONE;
	if (io->ser_rmw)
		atomic_fetch_sub(&s->serialising, 1);
	run = wake_waiters(s);
	pthread_mutex_unlock(&s->lock);
	resume_all(s, run);
}

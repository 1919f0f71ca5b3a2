/* SPDX-License-Identifier: MIT */
#include "irq_batch.h"

static void irq_batch_raise(struct irq_batch *ib)
{
	ib->due = false;
	ib->pending_n = 0;
	if (ib->timer.armed)
		evloop_timer_cancel(ib->loop, &ib->timer);
	if (ib->raise(ib->dev))
		ib->st->writes++;
}

static void irq_batch_timer(void *opaque)
{
	struct irq_batch *ib = opaque;

	pthread_mutex_lock(ib->lock);
	if (ib->due) {
		ib->st->timer_fires++;
		irq_batch_raise(ib);
	}
	pthread_mutex_unlock(ib->lock);
}

void irq_batch_init(struct irq_batch *ib, pthread_mutex_t *lock, bool (*raise)(void *dev),
		    void *dev, struct irq_batch_stats *st)
{
	*ib = (struct irq_batch){
		.lock = lock, .raise = raise, .dev = dev, .st = st,
		.timer = { .fn = irq_batch_timer, .opaque = ib },
	};
}

void irq_batch_attach(struct irq_batch *ib, struct evloop *loop)
{
	ib->loop = loop;
}

void irq_batch_end(struct irq_batch *ib, bool due, unsigned done, unsigned inflight)
{
	const struct evloop_irq_policy *pol = &ib->loop->irq;

	ib->due |= due;
	if (!ib->due)
		return;
	/* Completions the driver suppressed meanwhile ride on it too. */
	ib->pending_n += done;
	if (!pol->coalesce_ns || !inflight || (pol->max_batch && ib->pending_n >= pol->max_batch)) {
		/* Nothing more can come (or enough came): waiting is pure latency. */
		irq_batch_raise(ib);
	} else if (!ib->timer.armed) {
		if (evloop_timer_arm(ib->loop, &ib->timer, evloop_time(ib->loop) + pol->coalesce_ns) == 0)
			ib->st->delayed++;
		else
			irq_batch_raise(ib);
	}
}

void irq_batch_forget(struct irq_batch *ib)
{
	/* The timer, if armed, finds nothing due. */
	ib->due = false;
	ib->pending_n = 0;
}

void irq_batch_detach(struct irq_batch *ib)
{
	if (ib->loop)
		evloop_timer_cancel(ib->loop, &ib->timer);
	irq_batch_forget(ib);
	ib->loop = NULL;
}

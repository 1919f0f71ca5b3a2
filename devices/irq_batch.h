/* SPDX-License-Identifier: MIT */
/*
 * One interrupt line's batching and coalescing for the queues one event
 * loop serves; nothing in it is specific to a device type.
 *
 * At the end of each batch of its loop the device says whether one of its
 * queues' drivers wants an interrupt (virtq_should_notify), how many
 * completions it published and how many requests are still in flight.
 * The batcher sends one interrupt for all of them, at once or, under the
 * loop's coalescing policy (struct evloop_irq_policy: irq-coalesce-us,
 * irq-max-batch), when its timer, the batch cap or the last in-flight
 * request says so: waiting longer than that is pure latency.
 *
 * Threading: every call with the device's lock held, on the loop's
 * thread; the timer takes that lock itself.
 */
#ifndef POLLVM_DEVICES_IRQ_BATCH_H
#define POLLVM_DEVICES_IRQ_BATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../vmm/evloop.h"

/* The device's, shared by its batchers (one per loop), under its lock. */
struct irq_batch_stats {
	uint64_t writes;         /* interrupts sent (irqfd writes) */
	uint64_t delayed;        /* held back to coalesce (irq-coalesce-us) */
	uint64_t timer_fires;    /* ... of which the timer sent (no max batch, no drain) */
};

struct irq_batch {
	struct evloop *loop;
	pthread_mutex_t *lock;           /* the device's */
	bool (*raise)(void *dev);        /* send it (lock held); false: device not live */
	void *dev;
	struct irq_batch_stats *st;
	bool due;                        /* an interrupt is owed ... */
	unsigned pending_n;              /* ... covering this many completions */
	struct evloop_timer timer;
};

void irq_batch_init(struct irq_batch *ib, pthread_mutex_t *lock, bool (*raise)(void *dev),
		    void *dev, struct irq_batch_stats *st);
/* Signal for queues served by loop (before the loop runs them). */
void irq_batch_attach(struct irq_batch *ib, struct evloop *loop);
/*
 * A batch ended: due, the drivers asked for an interrupt; done, the
 * completions published since the last call; inflight, the requests
 * still outstanding on the queues this batcher signals for.
 */
void irq_batch_end(struct irq_batch *ib, bool due, unsigned done, unsigned inflight);
/* An owed interrupt is for rings that are gone (reset): forget it. */
void irq_batch_forget(struct irq_batch *ib);
/* The queues leave the loop: the timer is cancelled, nothing is owed. */
void irq_batch_detach(struct irq_batch *ib);

#endif

/* SPDX-License-Identifier: MIT */
#include "iothread.h"
#include "log.h"
#include "sandbox.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int iothread_init(struct iothread *t, const struct iothread_cfg *c)
{
	const char *id = c->id;
	int r;

	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->pinned = c->pinned;
	t->cpu = c->cpu;
	r = evloop_init(&t->loop);
	if (r) {
		pv_err(PV_INTERNAL, "iothread %s: event loop: %s", id, strerror(-r));
		return r;
	}
	evloop_set_poll(&t->loop, &c->poll, c->poll_contention);
	t->loop.irq = (struct evloop_irq_policy){
		.coalesce_ns = c->irq_coalesce_ns, .max_batch = c->irq_max_batch,
	};
	r = uring_init(&t->uring, IOTHREAD_RING_ENTRIES);
	if (r)
		goto fail_loop;
	r = uring_attach(&t->uring, &t->loop);
	if (r) {
		pv_err(PV_INTERNAL, "iothread %s: %s", id, strerror(-r));
		goto fail_uring;
	}
	return 0;
fail_uring:
	uring_destroy(&t->uring);
fail_loop:
	evloop_destroy(&t->loop);
	return r;
}

static void *iothread_main(void *arg)
{
	struct iothread *t = arg;
	struct timespec ts;
	char name[16];

	/* 15 characters is all a thread name holds (TASK_COMM_LEN - 1). */
	snprintf(name, sizeof(name), "iothread-%.6s", t->id);
	pthread_setname_np(pthread_self(), name);
	/* The IOThread parses guest memory: only the system calls its loop needs.
	 * iothread_start() waits for the outcome: no unfiltered guest I/O. */
	t->sandbox_err = sandbox_apply(SANDBOX_IOTHREAD, NULL, 0);
	sem_post(&t->ready);
	if (t->sandbox_err)
		return NULL;

	while (!atomic_load_explicit(&t->stop, memory_order_acquire)) {
		int r = evloop_run_once(&t->loop, -1);
		if (r < 0 && r != -EINTR)
			break;
	}
	/* Clean stop: every request the backends hold completes (the loop
	 * keeps running for it, stranded SQEs included), but not for ever:
	 * what is left is reported by the caller. */
	if (uring_drain(&t->uring, t->stop_deadline) == -ETIMEDOUT) {
		t->stop_timed_out = true;
		t->left_requests = t->uring.pending;
		t->left_unsubmitted = t->uring.queued;
		t->left_in_kernel = t->uring.inflight - t->uring.queued;
	}
	/* Kicks back on: the rings outlive this thread. */
	evloop_poll_stop(&t->loop);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	t->cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return NULL;
}

int iothread_start(struct iothread *t)
{
	pthread_attr_t attr;
	int r;

	sem_init(&t->ready, 0, 0);
	r = pthread_attr_init(&attr);
	if (r)
		return -r;
	if (t->pinned) {
		/* Pinned from its first instruction (glibc sets the affinity from
		 * this thread, before the new one runs, and outside its sandbox). */
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(t->cpu, &set);
		r = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (!r)
		r = pthread_create(&t->thread, &attr, iothread_main, t);
	pthread_attr_destroy(&attr);
	if (r)
		return -r;
	t->started = true;
	while (sem_wait(&t->ready) < 0 && errno == EINTR)
		;
	if (t->sandbox_err) {
		pthread_join(t->thread, NULL);
		t->started = false;
		return t->sandbox_err;
	}
	return 0;
}

uint64_t iothread_cpu_ns(const struct iothread *t)
{
	struct timespec ts;
	clockid_t cid;

	if (!t->started || pthread_getcpuclockid(t->thread, &cid) || clock_gettime(cid, &ts))
		return t->cpu_ns;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void iothread_stop(struct iothread *t, uint64_t deadline_ns)
{
	if (!t->started)
		return;
	t->stop_deadline = deadline_ns;
	/* Release: the deadline before the flag; pairs with the loop's acquire load. */
	atomic_store_explicit(&t->stop, true, memory_order_release);
	evloop_wake(&t->loop);
	pthread_join(t->thread, NULL);
	t->started = false;
}

void iothread_destroy(struct iothread *t)
{
	iothread_stop(t, 0);
	uring_destroy(&t->uring);
	evloop_destroy(&t->loop);
}

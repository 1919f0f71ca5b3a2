/* SPDX-License-Identifier: MIT */
#include "poll_contention.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void contention_init(struct poll_contention *c)
{
	memset(c, 0, sizeof(*c));
	c->period_ns = CONTENTION_PERIOD_NS;
	c->threshold = CONTENTION_THRESHOLD;
	c->backoff_min_ns = CONTENTION_BACKOFF_MIN_NS;
	c->backoff_max_ns = CONTENTION_BACKOFF_MAX_NS;
	c->backoff_ns = c->backoff_min_ns;
}

bool contention_due(const struct poll_contention *c, uint64_t now)
{
	if (!contention_allows(c, now))
		return false;               /* backing off: not polling, nothing to learn */
	if (!c->armed)
		return true;                /* take the baseline */
	return c->polled && now - c->last_ns >= c->period_ns;
}

bool contention_feed(struct poll_contention *c, uint64_t now, uint64_t val)
{
	uint64_t delta = val - c->last_val;

	if (!c->armed) {
		c->armed = true;
		c->polled = false;
		c->last_ns = now;
		c->last_val = val;
		return false;
	}
	c->samples++;
	c->last_ns = now;
	c->last_val = val;
	c->polled = false;
	if (delta < c->threshold) {
		c->backoff_ns = c->backoff_min_ns;
		return false;
	}
	c->backoffs++;
	c->backoff_until = now + c->backoff_ns;
	c->backoff_ns = c->backoff_ns * 2 > c->backoff_max_ns ? c->backoff_max_ns : c->backoff_ns * 2;
	/* The next baseline is taken when the back-off ends: the time we spent
	 * not polling says nothing about what polling costs others. */
	c->armed = false;
	return true;
}

uint64_t contention_read_nivcsw(void *unused)
{
	struct rusage ru;

	(void)unused;
	if (getrusage(RUSAGE_THREAD, &ru) < 0)
		return 0;
	return (uint64_t)ru.ru_nivcsw;
}

uint64_t contention_read_rq_wait(int *fd)
{
	char buf[96];
	ssize_t n;

	if (*fd < 0)
		*fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return 0;
	n = pread(*fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "<on-cpu ns> <run-queue wait ns> <timeslices>" */
	char *p = strchr(buf, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

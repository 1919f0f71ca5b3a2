/* SPDX-License-Identifier: MIT */
/*
 * A minimal MC146818 CMOS RTC on ports 0x70 (index) / 0x71 (data): the
 * wall clock in BCD, status registers that say "no update in progress",
 * and the rest of the 128 bytes as plain storage.  Without it Linux
 * polls for the update-in-progress bit to clear for about a second.
 */
#ifndef POLLVM_DEVICES_CMOS_H
#define POLLVM_DEVICES_CMOS_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "../vmm/bus.h"

#define CMOS_PORT 0x70

struct cmos {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[128];
	time_t (*now)(void);   /* wall clock, replaceable for tests */
};

void cmos_init(struct cmos *c);
void cmos_destroy(struct cmos *c);

extern const struct bus_ops cmos_ops;

#endif

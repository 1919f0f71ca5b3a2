/* SPDX-License-Identifier: MIT */
#include "cmos.h"

#include <string.h>

/* MC146818 register map (data sheet, "Address Map"). */
enum {
	RTC_SECONDS = 0x00, RTC_MINUTES = 0x02, RTC_HOURS = 0x04, RTC_WEEKDAY = 0x06,
	RTC_DAY = 0x07, RTC_MONTH = 0x08, RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
	RTC_CENTURY = 0x32, /* the PC/AT convention */
};
#define REG_A_DIV_32K  0x26  /* 32.768 kHz time base, 1.024 kHz rate; UIP (bit 7) clear */
#define REG_B_24H      0x02  /* 24-hour mode; DM (bit 2) clear: BCD */
#define REG_D_VRT      0x80  /* "valid RAM and time": the battery is fine */

static time_t cmos_wallclock(void) { return time(NULL); }

static uint8_t bcd(int v) { return (uint8_t)(((v / 10) << 4) | (v % 10)); }

void cmos_init(struct cmos *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->ram[RTC_REG_A] = REG_A_DIV_32K;
	c->ram[RTC_REG_B] = REG_B_24H;
	c->ram[RTC_REG_D] = REG_D_VRT;
	c->now = cmos_wallclock;
}

void cmos_destroy(struct cmos *c)
{
	pthread_mutex_destroy(&c->lock);
}

static uint8_t cmos_reg(struct cmos *c, uint8_t idx)
{
	time_t t;
	struct tm tm;

	switch (idx) {
	case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_WEEKDAY:
	case RTC_DAY: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
		t = c->now();
		gmtime_r(&t, &tm);
		switch (idx) {
		case RTC_SECONDS: return bcd(tm.tm_sec);
		case RTC_MINUTES: return bcd(tm.tm_min);
		case RTC_HOURS:   return bcd(tm.tm_hour);
		case RTC_WEEKDAY: return bcd(tm.tm_wday + 1);
		case RTC_DAY:     return bcd(tm.tm_mday);
		case RTC_MONTH:   return bcd(tm.tm_mon + 1);
		case RTC_YEAR:    return bcd(tm.tm_year % 100);
		default:          return bcd((tm.tm_year + 1900) / 100);
		}
	case RTC_REG_C:
		return 0; /* no interrupt flags: we raise no RTC interrupts */
	default:
		return c->ram[idx];
	}
}

static void cmos_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct cmos *c = opaque;
	uint8_t *d = data;

	pthread_mutex_lock(&c->lock);
	d[0] = off == 0 ? 0xff : cmos_reg(c, c->index);
	pthread_mutex_unlock(&c->lock);
	for (unsigned i = 1; i < len; i++)
		d[i] = 0xff;
}

static void cmos_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct cmos *c = opaque;
	uint8_t v = *(const uint8_t *)data;

	(void)len;
	pthread_mutex_lock(&c->lock);
	if (off == 0) {
		c->index = v & 0x7f; /* bit 7 is the NMI mask, not part of the index */
	} else if (c->index > RTC_REG_D || c->index == RTC_REG_B) {
		/* Clock registers and A/C/D are ours; B and RAM keep what is written,
		 * except that B stays in BCD 24-hour mode, which is all we emulate. */
		c->ram[c->index] = c->index == RTC_REG_B ? (uint8_t)((v & ~0x04) | REG_B_24H) : v;
	}
	pthread_mutex_unlock(&c->lock);
}

const struct bus_ops cmos_ops = {
	.read = cmos_read,
	.write = cmos_write,
};

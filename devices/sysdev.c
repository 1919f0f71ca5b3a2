/* SPDX-License-Identifier: MIT */
#include "sysdev.h"
#include "../firmware/layout.h"

#include <string.h>

#define I8042_CMD_RESET   0xfe  /* "pulse output line 0": CPU reset */
#define I8042_STATUS_OK   0x00  /* input and output buffers empty */
#define RST_CNT_RST_CPU   0x04  /* reset control register: RST_CPU */

static uint32_t value_of(const void *data, unsigned len)
{
	uint32_t v = 0;
	memcpy(&v, data, len > 4 ? 4 : len);
	return v;
}

static void debug_exit(struct sysdev *s, uint32_t v, const char *why)
{
	/* isa-debug-exit: status (v << 1) | 1, truncated to 8 bits by exit(3). */
	s->ops->exit(s->opaque, (int)(((v << 1) | 1) & 0xff), why);
}

static void sink_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque; (void)off;
	memset(data, 0, len);
}

static void exit_port_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	if (off == 0)
		debug_exit(opaque, value_of(data, len), "guest wrote the exit port");
}

static void mmio_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct sysdev *s = opaque;
	uint32_t v = value_of(data, len);

	if (off == SYSDEV_REG_EXIT)
		debug_exit(s, v, "guest wrote the exit register");
	else if (off == SYSDEV_REG_MARKER && v == SYSDEV_MARKER_INIT)
		s->ops->marker(s->opaque);
}

static void i8042_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque; (void)off;
	/* Nothing attached: both buffers empty, so reboot=k's kb_wait() returns. */
	memset(data, I8042_STATUS_OK, len);
}

static void i8042_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct sysdev *s = opaque;

	(void)len;
	if (off == I8042_CMD_PORT - I8042_DATA_PORT && *(const uint8_t *)data == I8042_CMD_RESET)
		s->ops->exit(s->opaque, 0, "guest reset (i8042)");
}

static void rstcnt_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct sysdev *s = opaque;

	(void)off; (void)len;
	if (*(const uint8_t *)data & RST_CNT_RST_CPU)
		s->ops->exit(s->opaque, 0, "guest reset (port 0xcf9)");
}

static void sink_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	(void)opaque; (void)off; (void)data; (void)len;
}

const struct bus_ops sysdev_exit_port_ops = { .read = sink_read, .write = exit_port_write };
const struct bus_ops sysdev_mmio_ops = { .read = sink_read, .write = mmio_write };
const struct bus_ops sysdev_i8042_ops = { .read = i8042_read, .write = i8042_write };
const struct bus_ops sysdev_rstcnt_ops = { .read = sink_read, .write = rstcnt_write };
const struct bus_ops sysdev_sink_ops = { .read = sink_read, .write = sink_write };

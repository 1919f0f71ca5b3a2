/* SPDX-License-Identifier: MIT */
/* Platform devices: 16550A UART, CMOS RTC, exit/reset/marker device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

#include "../../devices/cmos.h"
#include "../../devices/sysdev.h"
#include "../../devices/uart8250.h"
#include "../../firmware/layout.h"
#include "../../vmm/log.h"

static int irq_level = -1, irq_changes;

static void fake_irq(void *o, unsigned gsi, int level)
{
	(void)o;
	assert_int_equal(gsi, 4);
	irq_level = level;
	irq_changes++;
}

static uint8_t rd(struct uart8250 *u, unsigned reg)
{
	uint8_t v;
	uart8250_ops.read(u, reg, &v, 1);
	return v;
}

static void wr(struct uart8250 *u, unsigned reg, uint8_t v)
{
	uart8250_ops.write(u, reg, &v, 1);
}

static void test_uart_tx_and_thre_irq(void **state)
{
	struct uart8250 u;
	int p[2];
	char buf[8] = { 0 };
	(void)state;
	assert_int_equal(pipe(p), 0);
	irq_level = -1;
	irq_changes = 0;
	uart8250_init(&u, p[1], (struct irq_line){ .set_level = fake_irq, .gsi = 4 });

	wr(&u, 0, 'h');
	wr(&u, 0, 'i');
	assert_int_equal(read(p[0], buf, sizeof(buf)), 2);
	assert_string_equal(buf, "hi");
	assert_int_equal(u.tx_bytes, 2);
	assert_int_equal(rd(&u, 5) & 0x60, 0x60);   /* LSR: THRE and TEMT */
	assert_int_equal(irq_changes, 0);           /* IER is 0: no interrupt */

	wr(&u, 1, 0x02);                            /* enable THRI: fires at once */
	assert_int_equal(irq_level, 1);
	assert_int_equal(rd(&u, 2) & 0x0f, 0x02);   /* IIR says THRE, and reading clears it */
	assert_int_equal(irq_level, 0);
	assert_int_equal(rd(&u, 2) & 0x0f, 0x01);   /* nothing pending now */
	wr(&u, 0, 'x');                             /* THR empties again: new interrupt */
	assert_int_equal(irq_level, 1);
	wr(&u, 4, 0x00);                            /* OUT2 off gates the line */
	assert_int_equal(irq_level, 0);
	uart8250_destroy(&u);
	close(p[0]);
	close(p[1]);
}

static void test_uart_rx_loopback_dlab(void **state)
{
	struct uart8250 u;
	(void)state;
	irq_level = -1;
	uart8250_init(&u, -1, (struct irq_line){ .set_level = fake_irq, .gsi = 4 });

	/* Linux's 8250 probe: scratch, loopback MSR 0x90, FIFO bits in IIR. */
	wr(&u, 7, 0xa5);
	assert_int_equal(rd(&u, 7), 0xa5);
	wr(&u, 4, 0x10 | 0x0a);
	assert_int_equal(rd(&u, 6) & 0xf0, 0x90);
	wr(&u, 0, 'L');                             /* loops back into RBR */
	assert_int_equal(rd(&u, 5) & 1, 1);
	assert_int_equal(rd(&u, 0), 'L');
	assert_int_equal(rd(&u, 5) & 1, 0);
	wr(&u, 4, 0x08);
	wr(&u, 2, 0x01);
	assert_int_equal(rd(&u, 2) & 0xc0, 0xc0);

	/* DLAB switches offsets 0/1 to the divisor latch. */
	wr(&u, 3, 0x80);
	wr(&u, 0, 0x01);
	wr(&u, 1, 0x02);
	assert_int_equal(rd(&u, 0), 0x01);
	assert_int_equal(rd(&u, 1), 0x02);
	wr(&u, 3, 0x03);
	assert_int_equal(rd(&u, 1), 0x00);          /* IER untouched */

	/* Receive: data-ready interrupt when enabled, cleared when drained. */
	wr(&u, 1, 0x01);
	assert_int_equal(uart8250_receive(&u, (const uint8_t *)"ab", 2), 2);
	assert_int_equal(irq_level, 1);
	assert_int_equal(rd(&u, 2) & 0x0f, 0x04);
	assert_int_equal(rd(&u, 0), 'a');
	assert_int_equal(rd(&u, 0), 'b');
	assert_int_equal(irq_level, 0);
	/* The FIFO holds what it holds; the rest is refused. */
	uint8_t many[100];
	memset(many, 'z', sizeof(many));
	assert_int_equal(uart8250_receive(&u, many, sizeof(many)), UART_RX_FIFO);
	uart8250_destroy(&u);
}

static time_t fixed_time(void)
{
	return 1795891802; /* 2026-11-28 18:50:02 UTC, a Saturday */
}

static uint8_t cmos_rd(struct cmos *c, uint8_t idx)
{
	uint8_t v;
	cmos_ops.write(c, 0, &idx, 1);
	cmos_ops.read(c, 1, &v, 1);
	return v;
}

static void test_cmos(void **state)
{
	struct cmos c;
	(void)state;
	cmos_init(&c);
	c.now = fixed_time;
	assert_int_equal(cmos_rd(&c, 0x00), 0x02);
	assert_int_equal(cmos_rd(&c, 0x02), 0x50);
	assert_int_equal(cmos_rd(&c, 0x04), 0x18);
	assert_int_equal(cmos_rd(&c, 0x06), 0x07);
	assert_int_equal(cmos_rd(&c, 0x07), 0x28);
	assert_int_equal(cmos_rd(&c, 0x08), 0x11);
	assert_int_equal(cmos_rd(&c, 0x09), 0x26);
	assert_int_equal(cmos_rd(&c, 0x32), 0x20);
	assert_int_equal(cmos_rd(&c, 0x0a) & 0x80, 0);   /* no update in progress */
	assert_int_equal(cmos_rd(&c, 0x0b) & 0x06, 0x02); /* BCD, 24 h */
	assert_int_equal(cmos_rd(&c, 0x0d), 0x80);
	/* NMI-mask bit is not part of the index; RAM keeps what is written. */
	assert_int_equal(cmos_rd(&c, 0x80 | 0x00), 0x02);
	uint8_t idx = 0x40, v = 0x99;
	cmos_ops.write(&c, 0, &idx, 1);
	cmos_ops.write(&c, 1, &v, 1);
	assert_int_equal(cmos_rd(&c, 0x40), 0x99);
	/* Clock registers are not writable storage. */
	idx = 0x00;
	cmos_ops.write(&c, 0, &idx, 1);
	cmos_ops.write(&c, 1, &v, 1);
	assert_int_equal(cmos_rd(&c, 0x00), 0x02);
	cmos_destroy(&c);
}

static int exit_status = -1, markers;
static char exit_why[64];

static void fake_exit(void *o, int status, const char *why)
{
	(void)o;
	exit_status = status;
	strncpy(exit_why, why, sizeof(exit_why) - 1);
}

static void fake_marker(void *o)
{
	(void)o;
	markers++;
}

static const struct sysdev_ops fake_sysdev_ops = { .exit = fake_exit, .marker = fake_marker };

static void test_sysdev(void **state)
{
	struct sysdev s = { .ops = &fake_sysdev_ops };
	uint32_t v;
	uint8_t b;
	(void)state;

	v = 0x21;
	sysdev_exit_port_ops.write(&s, 0, &v, 1);
	assert_int_equal(exit_status, 0x43);
	v = 0;
	sysdev_exit_port_ops.write(&s, 0, &v, 4);
	assert_int_equal(exit_status, 1);
	v = 0x80;                                  /* (0x80 << 1) | 1 = 0x101 -> 8 bits */
	sysdev_exit_port_ops.write(&s, 0, &v, 1);
	assert_int_equal(exit_status, 1);

	exit_status = -1;
	v = 5;
	sysdev_mmio_ops.write(&s, SYSDEV_REG_EXIT, &v, 4);
	assert_int_equal(exit_status, 11);
	v = SYSDEV_MARKER_INIT;
	sysdev_mmio_ops.write(&s, SYSDEV_REG_MARKER, &v, 4);
	assert_int_equal(markers, 1);
	v = 1;                                      /* wrong magic: ignored */
	sysdev_mmio_ops.write(&s, SYSDEV_REG_MARKER, &v, 4);
	assert_int_equal(markers, 1);

	exit_status = -1;
	b = 0xfe;
	sysdev_i8042_ops.write(&s, 0, &b, 1);       /* data port: not a command */
	assert_int_equal(exit_status, -1);
	sysdev_i8042_ops.write(&s, 4, &b, 1);
	assert_int_equal(exit_status, 0);
	sysdev_i8042_ops.read(&s, 4, &b, 1);
	assert_int_equal(b & 0x02, 0);              /* input buffer empty */

	exit_status = -1;
	b = 0x02;
	sysdev_rstcnt_ops.write(&s, 0, &b, 1);
	assert_int_equal(exit_status, -1);
	b = 0x06;
	sysdev_rstcnt_ops.write(&s, 0, &b, 1);
	assert_int_equal(exit_status, 0);
}

/* Whatever the guest writes, the exit device's status is odd: pollvm's own are even (log.h). */
static void test_exit_device_statuses_apart(void **state)
{
	static const int own[] = { EXIT_GUEST_RESET, EXIT_BAD_INPUT, EXIT_GUEST_CRASH, EXIT_INTERNAL,
				   EXIT_TIMEOUT };
	static const uint32_t big[] = { 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff };
	struct sysdev s = { .ops = &fake_sysdev_ops };
	(void)state;

	for (unsigned i = 0; i < 0x200 + sizeof(big) / sizeof(big[0]); i++) {
		uint32_t v = i < 0x200 ? i : big[i - 0x200];
		for (unsigned how = 0; how < 4; how++) {
			exit_status = -1;
			if (how < 3)
				sysdev_exit_port_ops.write(&s, 0, &v, 1u << how); /* 1, 2, 4 bytes */
			else
				sysdev_mmio_ops.write(&s, SYSDEV_REG_EXIT, &v, 4);
			assert_true(exit_status > 0 && exit_status <= 255);
			assert_int_equal(exit_status % 2, 1);
			for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
				assert_int_not_equal(exit_status, own[k]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uart_tx_and_thre_irq),
		cmocka_unit_test(test_uart_rx_loopback_dlab),
		cmocka_unit_test(test_cmos),
		cmocka_unit_test(test_sysdev),
		cmocka_unit_test(test_exit_device_statuses_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Register semantics follow the National/TI PC16550D data sheet: offsets
 * 0-7, DLAB (LCR bit 7) switching 0/1 to the divisor latch.  Transmission
 * is instantaneous, so THR is always empty and LSR always says so.
 */
#include "uart8250.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI   0x01  /* received data available */
#define IER_THRI  0x02  /* THR empty */
#define IER_MASK  0x0f
#define IIR_NONE  0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_FIFO  0xc0  /* "FIFOs enabled" bits of a 16550A */
#define FCR_FIFO  0x01
#define LCR_DLAB  0x80
#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

void uart8250_init(struct uart8250 *u, int out_fd, struct irq_line irq)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->irq = irq;
	u->out_fd = out_fd;
	u->lsr = LSR_THRE | LSR_TEMT;
	u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	u->mcr = MCR_OUT2;
	u->dll = 12; /* 9600 baud, what a PC BIOS leaves */
}

void uart8250_destroy(struct uart8250 *u)
{
	pthread_mutex_destroy(&u->lock);
}

/* Highest-priority pending source, as IIR reports it (data sheet table 4). */
static uint8_t uart_iir(const struct uart8250 *u)
{
	uint8_t fifo = (u->iir_fcr & FCR_FIFO) ? IIR_FIFO : 0;

	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

static void uart_update_irq(struct uart8250 *u)
{
	int level = !(uart_iir(u) & IIR_NONE);

	/* OUT2 gates the interrupt onto the ISA bus on PC serial cards. */
	if (!(u->mcr & MCR_OUT2))
		level = 0;
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_line_set(&u->irq, level);
	}
}

static void uart_rx_push(struct uart8250 *u, uint8_t c)
{
	if (u->rx_count == UART_RX_FIFO)
		return; /* overrun: drop, as the hardware would */
	u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = c;
	u->rx_count++;
	u->lsr |= LSR_DR;
	u->rx_bytes++;
}

static void uart_tx(struct uart8250 *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP) {
		uart_rx_push(u, c);
	} else if (u->out_fd >= 0) {
		ssize_t r;
		do {
			r = write(u->out_fd, &c, 1);
		} while (r < 0 && errno == EINTR);
	}
	u->tx_bytes++;
	/* The byte left at once: THR is empty again. */
	u->thre_pending = 1;
}

static uint8_t uart_read_reg(struct uart8250 *u, unsigned reg)
{
	uint8_t v = 0;

	switch (reg) {
	case RBR_THR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
			if (--u->rx_count == 0)
				u->lsr &= (uint8_t)~LSR_DR;
		}
		return v;
	case IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case IIR_FCR:
		v = uart_iir(u);
		/* Reading IIR while it reports THRE clears that source (data sheet). */
		if ((v & 0x0f) == IIR_THRI)
			u->thre_pending = 0;
		return v;
	case LCR:
		return u->lcr;
	case MCR:
		return u->mcr;
	case LSR:
		return u->lsr;
	case MSR:
		if (u->mcr & MCR_LOOP) {
			/* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
			return (uint8_t)(((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
					 ((u->mcr & MCR_RTS) ? MSR_CTS : 0) |
					 ((u->mcr & MCR_OUT1) ? MSR_RI : 0) |
					 ((u->mcr & MCR_OUT2) ? MSR_DCD : 0));
		}
		return u->msr;
	default:
		return u->scr;
	}
}

static void uart_write_reg(struct uart8250 *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case RBR_THR:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			uart_tx(u, v);
		break;
	case IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
		} else {
			/* Enabling THRI with THR empty raises it at once. */
			if ((v & IER_THRI) && !(u->ier & IER_THRI))
				u->thre_pending = 1;
			u->ier = v & IER_MASK;
		}
		break;
	case IIR_FCR:
		u->iir_fcr = v;
		if (v & 0x02) { /* FCR bit 1: clear the receive FIFO */
			u->rx_count = 0;
			u->lsr &= (uint8_t)~LSR_DR;
		}
		break;
	case LCR:
		u->lcr = v;
		break;
	case MCR:
		u->mcr = v & 0x1f;
		break;
	case SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR and MSR are read-only */
	}
}

static void uart_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct uart8250 *u = opaque;
	uint8_t *d = data;

	pthread_mutex_lock(&u->lock);
	d[0] = uart_read_reg(u, (unsigned)off);
	for (unsigned i = 1; i < len; i++)
		d[i] = 0xff; /* wider accesses: only the addressed byte exists */
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct uart8250 *u = opaque;

	(void)len;
	pthread_mutex_lock(&u->lock);
	uart_write_reg(u, (unsigned)off, *(const uint8_t *)data);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

unsigned uart8250_receive(struct uart8250 *u, const uint8_t *buf, unsigned n)
{
	unsigned i;

	pthread_mutex_lock(&u->lock);
	for (i = 0; i < n && u->rx_count < UART_RX_FIFO; i++)
		uart_rx_push(u, buf[i]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return i;
}

const struct bus_ops uart8250_ops = {
	.read = uart_read,
	.write = uart_write,
};

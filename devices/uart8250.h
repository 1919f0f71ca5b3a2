/* SPDX-License-Identifier: MIT */
/*
 * An 8250/16550A UART: transmit to a file descriptor (the console),
 * receive from whatever the VMM feeds in, interrupts on one ISA line.
 */
#ifndef POLLVM_DEVICES_UART8250_H
#define POLLVM_DEVICES_UART8250_H

#include <pthread.h>
#include <stdint.h>

#include "../vmm/bus.h"
#include "../vmm/irq.h"

#define UART_RX_FIFO 64

struct uart8250 {
	pthread_mutex_t lock;
	struct irq_line irq;
	int out_fd;
	uint8_t ier, iir_fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	int thre_pending;    /* THR-empty interrupt waiting to be read from IIR */
	int irq_level;       /* what we last drove the line to */
	uint8_t rx[UART_RX_FIFO];
	unsigned rx_head, rx_count;
	uint64_t tx_bytes, rx_bytes;
};

void uart8250_init(struct uart8250 *u, int out_fd, struct irq_line irq);
void uart8250_destroy(struct uart8250 *u);
/* Queue received bytes; returns how many fit in the FIFO. */
unsigned uart8250_receive(struct uart8250 *u, const uint8_t *buf, unsigned n);

extern const struct bus_ops uart8250_ops;

#endif

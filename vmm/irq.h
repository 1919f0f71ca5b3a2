/* SPDX-License-Identifier: MIT */
/*
 * How a device raises an interrupt, without knowing about KVM: a line it
 * drives to a level.  pollvm backs it with KVM_IRQ_LINE on the in-kernel
 * IOAPIC/PIC; unit tests back it with a recorder.  (virtio devices do not
 * use this: they signal an irqfd from their IOThread.)
 */
#ifndef POLLVM_VMM_IRQ_H
#define POLLVM_VMM_IRQ_H

struct irq_line {
	void (*set_level)(void *opaque, unsigned gsi, int level);
	void *opaque;
	unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *l, int level)
{
	if (l->set_level)
		l->set_level(l->opaque, l->gsi, level);
}

#endif

/* SPDX-License-Identifier: MIT */
/* virtio-mmio v2 registers: identity, features, status machine, queue set-up, ISR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../devices/virtio_mmio.h"
#include "../lib/vq_driver.h"

#define DEV_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
		      (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << 9))

struct fake_dev {
	unsigned activates, resets, notifies, last_notify;
	uint8_t cfg[8];
	/* Reset waits, as a device with requests in flight does, while hold is set. */
	struct virtio_mmio *t;
	bool hold;
};

struct fx {
	struct drv d;
	struct virtq vqs[2];
	struct virtio_mmio t;
	struct fake_dev dev;
	int irqfd;
};

static void fd_config_read(void *dev, uint32_t off, void *data, unsigned len)
{
	struct fake_dev *f = dev;
	memcpy(data, f->cfg + off, len);
}

static void fd_config_write(void *dev, uint32_t off, const void *data, unsigned len)
{
	struct fake_dev *f = dev;
	memcpy(f->cfg + off, data, len);
}

static void fd_notify(void *dev, unsigned q) { struct fake_dev *f = dev; f->notifies++; f->last_notify = q; }
static void fd_activate(void *dev) { ((struct fake_dev *)dev)->activates++; }
static void fd_reset(void *dev)
{
	struct fake_dev *f = dev;

	f->resets++;
	while (f->hold)
		pthread_cond_wait(&f->t->cond, &f->t->lock);
}

static const struct virtio_dev_ops fake_ops = {
	.config_read = fd_config_read,
	.config_write = fd_config_write,
	.notify = fd_notify,
	.activate = fd_activate,
	.reset = fd_reset,
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	drv_init(&f->d, 16);
	f->irqfd = eventfd(0, EFD_NONBLOCK);
	for (int i = 0; i < 8; i++)
		f->dev.cfg[i] = (uint8_t)(0x10 + i);
	if (virtio_mmio_init(&f->t, "test", 2, DEV_FEATURES, &fake_ops, &f->dev, f->vqs, 2,
			     sizeof(f->dev.cfg), &f->d.mem, f->irqfd))
		return -1;
	f->dev.t = &f->t;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	virtio_mmio_destroy(&f->t);
	close(f->irqfd);
	drv_free(&f->d);
	free(f);
	return 0;
}


/* The Linux driver's order: ACK, DRIVER, features, FEATURES_OK, queue 0, DRIVER_OK. */
static void bring_up(struct fx *f)
{
	drv_mmio_negotiate(&f->t, DEV_FEATURES);
	drv_mmio_setup_queue(&f->t, 0, &f->d);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, DRV_STATUS_ALL);
}

static void test_identity(void **state)
{
	struct fx *f = *state;
	uint32_t magic = 0;

	/* 4.2.2: MagicValue reads "virt" (its bytes, in bus order). */
	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_MAGIC_VALUE, &magic, 4);
	assert_memory_equal(&magic, "virt", 4);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_DEVICE_ID), 2);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_VENDOR_ID), POLLVM_VIRTIO_VENDOR_ID);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
}

static void test_device_features(void **state)
{
	struct fx *f = *state;
	drv_mmio_wr(&f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)DEV_FEATURES);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_DEVICE_FEATURES), 1);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_DEVICE_FEATURES), 0);
}

static void test_negotiate_ok(void **state)
{
	struct fx *f = *state;
	drv_mmio_negotiate(&f->t, DEV_FEATURES);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), DRV_STATUS_ADF);
	assert_int_equal(f->t.driver_features, DEV_FEATURES);
	assert_int_equal(f->t.st.features_refused, 0);
}

static void test_features_need_version1(void **state)
{
	struct fx *f = *state;
	drv_mmio_negotiate(&f->t, 1ULL << 9);
	/* FEATURES_OK not granted */
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), DRV_STATUS_AD);
	assert_int_equal(f->t.st.features_refused, 1);
}

static void test_features_not_offered(void **state)
{
	struct fx *f = *state;
	drv_mmio_negotiate(&f->t, DEV_FEATURES | (1ULL << 5));
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), DRV_STATUS_AD);
	assert_int_equal(f->t.st.features_refused, 1);
}

static void test_features_write_order(void **state)
{
	struct fx *f = *state;
	/* Before DRIVER: ignored. */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	assert_int_equal(f->t.driver_features, 0);
	assert_int_equal(f->t.st.bad_writes, 1);
	drv_mmio_negotiate(&f->t, DEV_FEATURES);
	/* After FEATURES_OK: frozen. */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	assert_int_equal(f->t.driver_features, DEV_FEATURES);
	assert_int_equal(f->t.st.bad_writes, 2);
}

static void test_queue_before_features_ok(void **state)
{
	struct fx *f = *state;
	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, DRV_STATUS_AD);
	drv_mmio_setup_queue(&f->t, 0, &f->d);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_false(f->vqs[0].ready);
	assert_int_equal(f->vqs[0].desc_gpa, 0);
	assert_int_equal(f->t.st.bad_writes, 8); /* num, 6 addresses, ready */
}

static void test_bring_up(void **state)
{
	struct fx *f = *state;
	bring_up(f);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), DRV_STATUS_ALL);
	assert_int_equal(f->dev.activates, 1);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_true(f->vqs[0].ready);
	assert_true(f->vqs[0].event_idx);
	assert_true(f->vqs[0].indirect);
	assert_int_equal(f->vqs[0].num, 16);
	assert_int_equal(f->vqs[0].desc_gpa, f->d.desc);
	assert_int_equal(f->vqs[0].used_gpa, f->d.used);
	assert_true(virtio_mmio_live(&f->t));
	assert_int_equal(f->t.st.bad_writes, 0);
}

static void test_queue_after_driver_ok(void **state)
{
	struct fx *f = *state;
	bring_up(f);
	uint64_t bw = f->t.st.bad_writes;
	drv_mmio_setup_queue(&f->t, 1, &f->d);                       /* set-up after DRIVER_OK */
	assert_false(f->vqs[1].ready);
	assert_int_equal(f->t.st.bad_writes, bw + 8);
	/* A live queue cannot be stopped without reset. */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_SEL, 0);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_true(f->vqs[0].ready);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	assert_int_equal(f->vqs[0].desc_gpa, f->d.desc);
}

static void test_queue_num(void **state)
{
	struct fx *f = *state;
	drv_mmio_negotiate(&f->t, DEV_FEATURES);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_NUM_MAX);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_NUM, 12);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_NUM, 0);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_NUM, VIRTQ_NUM_MAX * 2);
	assert_int_equal(f->vqs[0].num, VIRTQ_NUM_MAX);
	assert_int_equal(f->t.st.bad_writes, 3);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_NUM, 8);
	assert_int_equal(f->vqs[0].num, 8);
	/* A queue that does not exist. */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_QUEUE_READY), 0);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(f->t.st.bad_writes, 4);
}

static void test_queue_rings_outside_ram(void **state)
{
	struct fx *f = *state;
	struct drv rings = f->d;

	rings.desc = 0xd0001000u;   /* our own MMIO window */
	drv_mmio_negotiate(&f->t, DEV_FEATURES);
	drv_mmio_setup_queue(&f->t, 0, &rings);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET,
			 VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(f->t.st.needs_reset, 1);
	assert_int_equal(drv_eventfd_take(f->irqfd), 0); /* no DRIVER_OK yet: no config interrupt */
	/* DRIVER_OK now does not make it live. */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, DRV_STATUS_ALL);
	assert_false(virtio_mmio_live(&f->t));
}

static void test_status_rules(void **state)
{
	struct fx *f = *state;
	/* DRIVER_OK without FEATURES_OK: refused. */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, DRV_STATUS_AD | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), DRV_STATUS_AD);
	assert_int_equal(f->dev.activates, 0);
	/* Clearing a bit without reset: refused. */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), DRV_STATUS_AD);
	/* The driver cannot set DEVICE_NEEDS_RESET. */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, DRV_STATUS_AD | VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), DRV_STATUS_AD);
	assert_int_equal(f->t.st.bad_writes, 2);
	/* FAILED may be set. */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, DRV_STATUS_AD | VIRTIO_CONFIG_S_FAILED);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), DRV_STATUS_AD | VIRTIO_CONFIG_S_FAILED);
}

/*
 * Regression (fuzz_mmio, corpus mmio/regress-undefined-status-bits): the
 * undefined status bits 0x10, 0x20 and bits 8..31 used to be stored and
 * read back as set.  They are dropped (and counted); the defined bits of
 * the same write still count, and a write of only undefined bits is not
 * a reset.
 */
static void test_status_undefined_bits(void **state)
{
	struct fx *f = *state;

	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | 0x30);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, DRV_STATUS_AD | 0xffff0000u);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), DRV_STATUS_AD);
	/* Only undefined bits: no reset, and nothing set. */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, 0x100);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), DRV_STATUS_AD);
	assert_int_equal(f->t.st.resets, 0);
	assert_true(f->t.st.bad_writes >= 3);
}

static void test_reset_drops_state(void **state)
{
	struct fx *f = *state;
	bring_up(f);
	virtio_mmio_raise(&f->t, VIRTIO_MMIO_INT_VRING);
	f->vqs[0].last_avail_idx = 7;
	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(f->dev.resets, 1);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(f->t.driver_features, 0);
	assert_int_equal(f->t.queue_sel, 0);
	assert_false(f->vqs[0].ready);
	assert_int_equal(f->vqs[0].last_avail_idx, 0);
	assert_int_equal(f->vqs[0].desc_gpa, 0);
	assert_int_equal(f->vqs[0].num, VIRTQ_NUM_MAX);
	assert_false(virtio_mmio_live(&f->t));
	assert_int_equal(f->t.st.resets, 1);
	/* And the device comes up again. */
	bring_up(f);
	assert_true(virtio_mmio_live(&f->t));
	assert_int_equal(f->dev.activates, 2);
}

static void *reset_thread(void *arg)
{
	struct fx *f = arg;

	drv_mmio_wr(&f->t, VIRTIO_MMIO_STATUS, 0);
	return NULL;
}

/* What another vCPU's reads see while a reset waits for the device. */
struct reader {
	struct fx *f;
	uint8_t cfg;
	bool ready_after;
	uint32_t status;
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;

	virtio_mmio_bus_ops.read(&r->f->t, VIRTIO_MMIO_CONFIG, &r->cfg, 1);
	r->ready_after = r->f->vqs[0].ready;
	r->status = drv_mmio_rd(&r->f->t, VIRTIO_MMIO_STATUS);
	return NULL;
}

/*
 * A reset that waits for the device releases the lock meanwhile: another
 * vCPU's register and config accesses wait until it has finished, so a
 * Status of 0 is only ever read from a device that is done (2.4.2).
 */
static void test_reset_waited_for(void **state)
{
	struct fx *f = *state;
	struct reader r = { .f = f };
	pthread_t a, b;

	bring_up(f);
	f->dev.hold = true;
	assert_int_equal(pthread_create(&a, NULL, reset_thread, f), 0);
	while (__atomic_load_n(&f->t.st.resets, __ATOMIC_RELAXED) == 0)
		usleep(100);
	/* The reset holds the lock until its device waits. */
	pthread_mutex_lock(&f->t.lock);
	bool resetting = f->t.resetting;
	pthread_mutex_unlock(&f->t.lock);
	assert_int_equal(pthread_create(&b, NULL, reader_thread, &r), 0);
	for (int i = 0; i < 100000 && !__atomic_load_n(&f->t.st.reset_waits, __ATOMIC_RELAXED); i++)
		usleep(100);
	uint64_t waits_mid = f->t.st.reset_waits;
	pthread_mutex_lock(&f->t.lock);
	f->dev.hold = false;
	pthread_cond_broadcast(&f->t.cond);
	pthread_mutex_unlock(&f->t.lock);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_true(resetting);
	assert_int_equal(waits_mid, 1);
	assert_int_equal(f->t.st.reset_waits, 1);
	assert_false(r.ready_after);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.cfg, 0x10);
	assert_false(f->t.resetting);
	assert_int_equal(f->dev.resets, 1);
	/* Nothing waits once it is over. */
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(f->t.st.reset_waits, 1);
}

static void test_interrupt_status_ack(void **state)
{
	struct fx *f = *state;
	bring_up(f);
	virtio_mmio_raise(&f->t, VIRTIO_MMIO_INT_VRING);
	virtio_mmio_raise(&f->t, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(drv_eventfd_take(f->irqfd), 2);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_INTERRUPT_ACK, 1);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* needs_reset after DRIVER_OK: config interrupt, once. */
	virtio_mmio_needs_reset(&f->t);
	virtio_mmio_needs_reset(&f->t);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(drv_eventfd_take(f->irqfd), 1);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS),
			 DRV_STATUS_ALL | VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_false(virtio_mmio_live(&f->t));
	assert_int_equal(f->t.st.needs_reset, 1);
}

static void test_bad_access_width(void **state)
{
	struct fx *f = *state;
	uint16_t v16 = 0xffff;
	uint8_t v8 = 0xff;
	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_MAGIC_VALUE, &v16, 2);
	assert_int_equal(v16, 0);
	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_MAGIC_VALUE + 1, &v8, 1);
	assert_int_equal(v8, 0);
	uint32_t v = 0;
	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_VERSION + 2, &v, 4);
	v16 = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	virtio_mmio_bus_ops.write(&f->t, VIRTIO_MMIO_STATUS, &v16, 2);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(f->t.st.bad_access, 4);
	/* Read-only registers and holes refuse writes. */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_MAGIC_VALUE, 0);
	drv_mmio_wr(&f->t, 0x0f0, 1);
	assert_int_equal(f->t.st.bad_writes, 2);
	assert_int_equal(drv_mmio_rd(&f->t, 0x0f0), 0);
}

static void test_config_space(void **state)
{
	struct fx *f = *state;
	uint8_t b;
	uint16_t h;
	uint32_t w;
	uint64_t q = 0;

	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_CONFIG + 1, &b, 1);
	assert_int_equal(b, 0x11);
	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_CONFIG + 2, &h, 2);
	assert_int_equal(h, 0x1312);
	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_CONFIG + 4, &w, 4);
	assert_int_equal(w, 0x17161514);
	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_CONFIG, &q, 8);
	assert_int_equal(q, 0x1716151413121110ULL);
	/* Past the end: zeroes, counted. */
	w = 0xffffffff;
	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_CONFIG + 6, &w, 4);
	assert_int_equal(w, 0);
	virtio_mmio_bus_ops.read(&f->t, VIRTIO_MMIO_CONFIG + 0x80, &w, 4);
	assert_int_equal(w, 0);
	assert_int_equal(f->t.st.bad_access, 2);
	b = 0x99;
	virtio_mmio_bus_ops.write(&f->t, VIRTIO_MMIO_CONFIG + 7, &b, 1);
	assert_int_equal(f->dev.cfg[7], 0x99);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	virtio_mmio_config_changed(&f->t);
	assert_int_equal(drv_mmio_rd(&f->t, VIRTIO_MMIO_CONFIG_GENERATION), 1);
}

static void test_queue_notify_bus(void **state)
{
	struct fx *f = *state;
	bring_up(f);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(f->dev.notifies, 1);
	assert_int_equal(f->dev.last_notify, 1);
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 2);   /* no such queue */
	drv_mmio_wr(&f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	assert_int_equal(f->dev.notifies, 1);
	assert_int_equal(f->t.st.bus_notifies, 3);
	assert_int_equal(f->t.st.bad_writes, 2);
}

static void test_init_requires_version1(void **state)
{
	(void)state;
	struct virtio_mmio t;
	struct guest_mem m = { 0 };
	assert_int_equal(virtio_mmio_init(&t, "x", 2, 1ULL << 9, &fake_ops, NULL, NULL, 0, 0, &m, -1),
			 -EINVAL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_identity),
		T(test_device_features),
		T(test_negotiate_ok),
		T(test_features_need_version1),
		T(test_features_not_offered),
		T(test_features_write_order),
		T(test_queue_before_features_ok),
		T(test_bring_up),
		T(test_queue_after_driver_ok),
		T(test_queue_num),
		T(test_queue_rings_outside_ram),
		T(test_status_rules),
		T(test_status_undefined_bits),
		T(test_reset_drops_state),
		T(test_reset_waited_for),
		T(test_interrupt_status_ack),
		T(test_bad_access_width),
		T(test_config_space),
		T(test_queue_notify_bus),
		cmocka_unit_test(test_init_requires_version1),
	};
	return cmocka_run_group_tests_name("virtio_mmio", tests, NULL, NULL);
}

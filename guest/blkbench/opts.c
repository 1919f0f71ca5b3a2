/* SPDX-License-Identifier: MIT */
#include "opts.h"
#include "lib.h"

static const char *const rw_names[] = {
	[RW_READ] = "read", [RW_WRITE] = "write", [RW_RANDREAD] = "randread",
	[RW_RANDWRITE] = "randwrite", [RW_RANDRW] = "randrw",
};

/* Words a Linux-style command line may carry that are not ours. */
static const char *const foreign_keys[] = {
	"console", "earlycon", "earlyprintk", "panic", "reboot", "quiet", "loglevel",
	"tsc", "tsc_early_khz", "no_timer_check", "io_delay", "acpi", "pci", "noapic",
	"nolapic", "root", "init", "rdinit", "mem", "nokaslr", "lpj", "i8042.noaux",
};

const char *bb_rw_name(enum bb_rw rw)
{
	return (unsigned)rw < sizeof(rw_names) / sizeof(rw_names[0]) ? rw_names[rw] : "?";
}

static bool word_is(const char *w, size_t n, const char *lit)
{
	return bb_strlen(lit) == n && !bb_strncmp(w, lit, n);
}

/*
 * A number: decimal, or hex with 0x; then an optional binary suffix
 * k/m/g (x 2^10, 2^20, 2^30) when `suffix` allows it.  The whole of
 * [s, s+n) must be used.  Returns false on junk or overflow.
 */
static bool parse_num(const char *s, size_t n, bool suffix, uint64_t *out)
{
	uint64_t v = 0, base = 10, mul = 1;
	size_t i = 0, digits = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (; i < n; i++, digits++) {
		char c = s[i];
		uint64_t d;
		if (c >= '0' && c <= '9')
			d = (uint64_t)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (uint64_t)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (uint64_t)(c - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	if (!digits)
		return false;
	if (i < n && suffix && i + 1 == n) {
		switch (s[i]) {
		case 'k': case 'K': mul = 1ull << 10; break;
		case 'm': case 'M': mul = 1ull << 20; break;
		case 'g': case 'G': mul = 1ull << 30; break;
		default: return false;
		}
		i++;
	}
	if (i != n || (v && mul > UINT64_MAX / v))
		return false;
	*out = v * mul;
	return true;
}

static bool parse_onoff(const char *v, size_t n, bool *out)
{
	if (word_is(v, n, "on") || word_is(v, n, "1") || word_is(v, n, "yes"))
		*out = true;
	else if (word_is(v, n, "off") || word_is(v, n, "0") || word_is(v, n, "no"))
		*out = false;
	else
		return false;
	return true;
}

/* <size>@<base>:<irq>[:<id>], size with suffix, base and irq plain (0x allowed). */
static bool parse_mmio_dev(const char *v, size_t n, struct bb_mmio_dev *d)
{
	size_t at = 0, colon, end;
	uint64_t irq;

	while (at < n && v[at] != '@')
		at++;
	for (colon = at; colon < n && v[colon] != ':'; colon++)
		;
	for (end = colon + 1; end < n && v[end] != ':'; end++)
		;
	if (at >= n || colon >= n)
		return false;
	if (!parse_num(v, at, true, &d->size) || !d->size ||
	    !parse_num(v + at + 1, colon - at - 1, false, &d->base) ||
	    !parse_num(v + colon + 1, end - colon - 1, false, &irq) || irq > 255)
		return false;
	d->irq = (uint32_t)irq;
	return true;
}

#define FAIL(...) do { bb_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* Bounds-checked numeric option. */
static int num_opt(const char *k, size_t kn, const char *v, size_t vn, bool suffix,
		   uint64_t lo, uint64_t hi, uint64_t *out, char *err, size_t errlen)
{
	if (!parse_num(v, vn, suffix, out) || *out < lo || *out > hi)
		FAIL("bad value '%.*s' for %.*s= (%lu..%lu%s)", (int)vn, v, (int)kn, k,
		     (unsigned long)lo, (unsigned long)hi, suffix ? ", k/m/g suffixes" : "");
	return 0;
}

static int one_opt(struct bb_opts *o, const char *k, size_t kn, const char *v, size_t vn,
		   bool *secs_set, char *err, size_t errlen)
{
	uint64_t x;

#define NUM(lo, hi, sfx) \
	do { if (num_opt(k, kn, v, vn, sfx, lo, hi, &x, err, errlen)) return -1; } while (0)

	if (word_is(k, kn, "rw")) {
		for (unsigned i = 0; i < sizeof(rw_names) / sizeof(rw_names[0]); i++)
			if (word_is(v, vn, rw_names[i])) {
				o->rw = (enum bb_rw)i;
				return 0;
			}
		FAIL("bad rw=%.*s (read|write|randread|randwrite|randrw)", (int)vn, v);
	} else if (word_is(k, kn, "bs")) {
		NUM(512, BB_MAX_BS, true);
		if (x % 512)
			FAIL("bs=%.*s is not a multiple of 512", (int)vn, v);
		o->bs = (uint32_t)x;
	} else if (word_is(k, kn, "qd")) {
		NUM(1, BB_MAX_QD, false);
		o->qd = (uint32_t)x;
	} else if (word_is(k, kn, "secs")) {
		NUM(1, 86400, false);
		o->secs = (uint32_t)x;
		*secs_set = true;
	} else if (word_is(k, kn, "idle")) {
		NUM(0, 86400, false);
		o->idle_secs = (uint32_t)x;
	} else if (word_is(k, kn, "buf_offset")) {
		NUM(0, 4095, false);
		o->buf_offset = (uint32_t)x;
	} else if (word_is(k, kn, "big_reqs")) {
		NUM(1, BB_MAX_BIG_REQS, false);
		o->big_reqs = (uint32_t)x;
	} else if (word_is(k, kn, "big_rounds")) {
		NUM(1, 1000, false);
		o->big_rounds = (uint32_t)x;
	} else if (word_is(k, kn, "big_len")) {
		NUM(512, BB_MAX_BIG_LEN, true);
		if (x % 512)
			FAIL("big_len=%.*s is not a multiple of 512", (int)vn, v);
		o->big_len = x;
	} else if (word_is(k, kn, "ios")) {
		NUM(1, UINT64_MAX, true);
		o->ios = x;
	} else if (word_is(k, kn, "queues")) {
		NUM(1, BB_MAX_QUEUES, false);
		o->queues = (uint32_t)x;
	} else if (word_is(k, kn, "verify")) {
		if (!parse_onoff(v, vn, &o->verify))
			FAIL("bad verify=%.*s (on|off)", (int)vn, v);
	} else if (word_is(k, kn, "prefill")) {
		if (!parse_onoff(v, vn, &o->prefill))
			FAIL("bad prefill=%.*s (on|off)", (int)vn, v);
	} else if (word_is(k, kn, "event_idx")) {
		if (!parse_onoff(v, vn, &o->event_idx))
			FAIL("bad event_idx=%.*s (on|off)", (int)vn, v);
	} else if (word_is(k, kn, "flush")) {
		if (!parse_onoff(v, vn, &o->flush))
			FAIL("bad flush=%.*s (on|off)", (int)vn, v);
	} else if (word_is(k, kn, "writeback")) {
		NUM(0, 1, false);
		o->writeback = (int)x;
	} else if (word_is(k, kn, "completion")) {
		if (word_is(v, vn, "poll"))
			o->completion = COMPLETION_POLL;
		else if (word_is(v, vn, "irq"))
			o->completion = COMPLETION_IRQ;
		else
			FAIL("bad completion=%.*s (poll|irq)", (int)vn, v);
	} else if (word_is(k, kn, "tsc_khz")) {
		NUM(1000, 100000000, false);   /* 1 MHz .. 100 GHz */
		o->tsc_khz = x;
	} else if (word_is(k, kn, "dev")) {
		NUM(0, BB_MAX_DEVS - 1, false);
		o->dev = (uint32_t)x;
	} else if (word_is(k, kn, "size")) {
		NUM(512, UINT64_MAX, true);
		o->size = x;
	} else if (word_is(k, kn, "seed")) {
		NUM(0, UINT64_MAX, false);
		o->seed = x;
	} else if (word_is(k, kn, "rwmixread")) {
		NUM(0, 100, false);
		o->rwmixread = (uint32_t)x;
	} else if (word_is(k, kn, "hostile")) {
		if (!vn || vn >= sizeof(o->hostile))
			FAIL("bad hostile=%.*s (a case name or all)", (int)vn, v);
		memcpy(o->hostile, v, vn);
		o->hostile[vn] = 0;
	} else if (word_is(k, kn, "crash")) {
		bool on;
		if (!parse_onoff(v, vn, &on))
			FAIL("bad crash=%.*s (on|off)", (int)vn, v);
		o->crash_sectors = on ? (o->crash_sectors ? o->crash_sectors : 2048) : 0;
	} else if (word_is(k, kn, "crash_sectors")) {
		NUM(1, 1u << 24, false);
		o->crash_sectors = x;
	} else if (word_is(k, kn, "virtio_mmio.device")) {
		if (o->nr_devs == BB_MAX_DEVS)
			FAIL("more than %u virtio_mmio.device= entries", BB_MAX_DEVS);
		if (!parse_mmio_dev(v, vn, &o->devs[o->nr_devs]))
			FAIL("bad virtio_mmio.device=%.*s (<size>@<base>:<irq>)", (int)vn, v);
		o->nr_devs++;
	} else {
		for (size_t i = 0; i < kn; i++)
			if (k[i] == '.')
				return 0;   /* some module's parameter */
		for (unsigned i = 0; i < sizeof(foreign_keys) / sizeof(foreign_keys[0]); i++)
			if (word_is(k, kn, foreign_keys[i]))
				return 0;
		FAIL("unknown option %.*s= (see guest/blkbench/README.md)", (int)kn, k);
	}
	return 0;
#undef NUM
}

int bb_parse_opts(const char *s, struct bb_opts *o, char *err, size_t errlen)
{
	bool secs_set = false;

	*o = (struct bb_opts){
		.rw = RW_RANDREAD, .bs = 4096, .qd = 1, .secs = 5, .queues = 1,
		.prefill = true, .event_idx = true, .flush = true, .writeback = -1,
		.completion = COMPLETION_POLL, .seed = 0x626c6b62656e6368ull,
		.rwmixread = 50, .big_reqs = 3, .big_len = 1016ull << 20,
		.big_rounds = 1,
	};
	if (err && errlen)
		err[0] = 0;
	while (*s) {
		const char *w, *eq = NULL;
		size_t n;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		for (w = s; *s && *s != ' ' && *s != '\t' && *s != '\n'; s++)
			if (*s == '=' && !eq)
				eq = s;
		n = (size_t)(s - w);
		if (!n || !eq)
			continue;   /* empty, or a bare Linux flag such as "ro" */
		if (one_opt(o, w, (size_t)(eq - w), eq + 1, n - (size_t)(eq - w) - 1, &secs_set,
			    err, errlen))
			return -1;
	}
	if (!o->tsc_khz)
		FAIL("tsc_khz= is required (the host's TSC rate in kHz: scripts/tsc-khz prints it)");
	if (o->ios && !secs_set)
		o->secs = 0;   /* ios= alone: run exactly that many */
	if (o->size && o->size < o->bs)
		FAIL("size= is smaller than bs=");
	return 0;
}

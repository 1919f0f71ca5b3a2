/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return -EINVAL;
	}
	if (*end) {
		end++;
		/* Accept "256M", "256MB" and "256MiB". */
		if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_kv_list(char *s, int (*fn)(const char *k, const char *v, void *arg), void *arg)
{
	char *save = NULL;
	const char *keys[32];
	unsigned nk = 0;

	/* An empty item (",,", or a comma at either end) is a typo, not nothing. */
	if (*s == ',' || strstr(s, ",,") || (*s && s[strlen(s) - 1] == ',')) {
		pv_err(PV_INPUT, "'%s': empty item in the key=value list", s);
		return -EINVAL;
	}
	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int r;
		if (eq)
			*eq++ = '\0';
		/* A key given twice (ro=on,...,ro=off): which one was meant? */
		for (unsigned i = 0; i < nk; i++)
			if (!strcmp(keys[i], tok)) {
				pv_err(PV_INPUT, "'%s' is given twice in one key=value list", tok);
				return -EINVAL;
			}
		if (nk < sizeof(keys) / sizeof(keys[0]))
			keys[nk++] = tok;
		r = fn(tok, eq, arg);
		if (r)
			return r;
	}
	return 0;
}

static int bad(const char *opt, const char *val, const char *why);

/* Parse an on/off flag the way QEMU spells them. */
static int parse_onoff(const char *v, bool *out)
{
	if (v && (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))) {
		*out = true;
		return 0;
	}
	if (v && (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

/* An IOThread or serial id: letters, digits, '-', '_', '.'; 1..20 chars. */
static bool valid_id(const char *v, size_t max)
{
	size_t n = v ? strlen(v) : 0;

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr("-_.", v[i]))
			return false;
	return true;
}

static int disk_kv(const char *k, const char *v, void *arg)
{
	struct disk_cfg *d = arg;
	uint64_t n;

	if (!v)
		return bad("--disk", k, "needs a value (key=value)");
	if (!strcmp(k, "path")) {
		if (!*v)
			return bad("--disk path", v, "is empty");
		d->path = v;
	} else if (!strcmp(k, "null")) {
		if (parse_onoff(v, &d->null))
			return bad("--disk null", v, "is not on or off");
	} else if (!strcmp(k, "size")) {
		if (parse_size(v, &d->size) || d->size == 0 || d->size % 512)
			return bad("--disk size", v, "is not a size that is a non-zero multiple of 512 (e.g. 1G)");
	} else if (!strcmp(k, "read-zeroes")) {
		if (parse_onoff(v, &d->read_zeroes))
			return bad("--disk read-zeroes", v, "is not on or off");
	} else if (!strcmp(k, "ro")) {
		if (parse_onoff(v, &d->ro))
			return bad("--disk ro", v, "is not on or off");
	} else if (!strcmp(k, "cache")) {
		if (!strcmp(v, "none"))
			d->cache = DISK_CACHE_NONE;
		else if (!strcmp(v, "writeback"))
			d->cache = DISK_CACHE_WRITEBACK;
		else
			return bad("--disk cache", v, "is not none or writeback");
	} else if (!strcmp(k, "num-queues")) {
		if (parse_uint(v, 1, CONFIG_MAX_QUEUES, &n))
			return bad("--disk num-queues", v, "is not a number in 1..16");
		d->num_queues = (unsigned)n;
	} else if (!strcmp(k, "iothread")) {
		/* ID, or ID+ID+...: the queues go round-robin over them. */
		const char *p = v;
		d->iothread = v;
		d->nr_iothread_ids = 0;
		for (;;) {
			size_t n = strcspn(p, "+");
			char id[32];
			if (n == 0 || n >= sizeof(id))
				return bad("--disk iothread", v, "is not ID or ID+ID+... (IOThread ids)");
			memcpy(id, p, n);
			id[n] = '\0';
			if (!valid_id(id, 20))
				return bad("--disk iothread", v, "is not ID or ID+ID+... (IOThread ids)");
			for (unsigned i = 0; i < d->nr_iothread_ids; i++)
				if (!strcmp(d->iothread_ids[i], id))
					return bad("--disk iothread", v, "names an IOThread twice");
			if (d->nr_iothread_ids == CONFIG_MAX_QUEUES)
				return bad("--disk iothread", v, "names more than 16 IOThreads");
			memcpy(d->iothread_ids[d->nr_iothread_ids++], id, n + 1);
			if (!p[n])
				break;
			p += n + 1;
		}
	} else if (!strcmp(k, "logical-block-size")) {
		if (strcmp(v, "512") && strcmp(v, "4096"))
			return bad("--disk logical-block-size", v, "is not 512 or 4096");
		d->logical_block_size = (unsigned)atoi(v);
	} else if (!strcmp(k, "physical-block-size")) {
		if (parse_uint(v, 512, 65536, &n) || (n & (n - 1)))
			return bad("--disk physical-block-size", v, "is not a power of two in 512..65536");
		d->physical_block_size = (unsigned)n;
	} else if (!strcmp(k, "serial")) {
		/* virtio 1.2 5.2.6: GET_ID answers at most 20 bytes. */
		if (!*v || strlen(v) > 20)
			return bad("--disk serial", v, "must be 1 to 20 characters");
		d->serial = v;
	} else {
		return bad("--disk", k, "is not a disk option (path, null, size, read-zeroes, ro, cache, "
			   "num-queues, iothread, serial, logical-block-size, physical-block-size)");
	}
	return 0;
}

void iothread_cfg_default(struct iothread_cfg *t, const char *id)
{
	*t = (struct iothread_cfg){ .id = id };
	poll_params_default(&t->poll);
}

/* A CPU this process may run on (cpu=N): one line and exit 2 otherwise. */
static int parse_cpu(const char *opt, const char *v, unsigned *out)
{
	cpu_set_t set;
	uint64_t n;

	if (parse_uint(v, 0, CPU_SETSIZE - 1, &n))
		return bad(opt, v, "is not a CPU number");
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && !CPU_ISSET((int)n, &set))
		return bad(opt, v, "is not a CPU this process may run on (see taskset -p, nproc)");
	*out = (unsigned)n;
	return 0;
}

static int iothread_kv(const char *k, const char *v, void *arg)
{
	struct iothread_cfg *t = arg;
	uint64_t n;

	if (!v)
		return bad("--iothread", k, "needs a value (key=value)");
	if (!strcmp(k, "id")) {
		if (!valid_id(v, 20))
			return bad("--iothread id", v, "must be 1-20 letters, digits, '-', '_' or '.'");
		t->id = v;
	} else if (!strcmp(k, "poll-max-ns")) {
		/* QEMU's meaning: the longest poll window; 0 turns polling off. */
		if (parse_uint(v, 0, 1000000000ull, &n))
			return bad("--iothread poll-max-ns", v, "is not a number of ns in 0..1000000000");
		t->poll.max_ns = n;
	} else if (!strcmp(k, "poll-grow")) {
		if (parse_uint(v, 0, 1000, &n))
			return bad("--iothread poll-grow", v, "is not a factor in 0..1000 (0: 2)");
		t->poll.grow = n;
	} else if (!strcmp(k, "poll-shrink")) {
		if (parse_uint(v, 0, 1000, &n))
			return bad("--iothread poll-shrink", v, "is not a divisor in 0..1000 (0: to 0)");
		t->poll.shrink = n;
	} else if (!strcmp(k, "poll-idle-ms")) {
		if (parse_uint(v, 0, 3600000, &n))
			return bad("--iothread poll-idle-ms", v, "is not a number of ms in 0..3600000 (0: never)");
		t->poll.idle_ns = n * 1000000ull;
	} else if (!strcmp(k, "poll-contention")) {
		if (parse_onoff(v, &t->poll_contention))
			return bad("--iothread poll-contention", v, "is not on or off");
	} else if (!strcmp(k, "irq-coalesce-us")) {
		if (parse_uint(v, 0, 10000, &n))
			return bad("--iothread irq-coalesce-us", v, "is not a number of us in 0..10000 (0: off)");
		t->irq_coalesce_ns = n * 1000ull;
	} else if (!strcmp(k, "irq-max-batch")) {
		if (parse_uint(v, 0, 1024, &n))
			return bad("--iothread irq-max-batch", v, "is not a number in 0..1024 (0: no cap)");
		t->irq_max_batch = (unsigned)n;
	} else if (!strcmp(k, "cpu")) {
		if (parse_cpu("--iothread cpu", v, &t->cpu))
			return -EINVAL;
		t->pinned = true;
	} else {
		return bad("--iothread", k, "is not an IOThread option (id, poll-max-ns, poll-grow, "
			   "poll-shrink, poll-idle-ms, poll-contention, irq-coalesce-us, irq-max-batch, cpu)");
	}
	return 0;
}

/* Cross-option checks once everything is parsed. */
static int config_check_devices(struct config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_iothreads; i++)
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(cfg->iothreads[i].id, cfg->iothreads[j].id))
				return bad("--iothread id", cfg->iothreads[i].id, "is given twice");
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		struct disk_cfg *d = &cfg->disks[i];
		for (unsigned k = 0; k < d->nr_iothread_ids; k++) {
			bool found = false;
			for (unsigned j = 0; j < cfg->nr_iothreads; j++)
				found |= !strcmp(d->iothread_ids[k], cfg->iothreads[j].id);
			if (!found)
				return bad("--disk iothread", d->iothread_ids[k], "names no --iothread id=...");
		}
		if (d->nr_iothread_ids > d->num_queues)
			return bad("--disk iothread", d->iothread, "names more IOThreads than the disk has queues (num-queues)");
		for (unsigned j = 0; j < i; j++)
			if (d->path && cfg->disks[j].path && !strcmp(d->path, cfg->disks[j].path))
				return bad("--disk path", d->path, "is used by two disks");
	}
	return 0;
}

/* --cpus N[,pin=C0:C1:...]: one host CPU per vCPU, in order. */
static int config_parse_cpus(struct config *cfg, char *arg)
{
	char *pin = strchr(arg, ','), *save = NULL;
	unsigned n = 0;
	uint64_t v;

	if (pin)
		*pin++ = '\0';
	if (parse_uint(arg, 1, CONFIG_MAX_CPUS, &v))
		return bad("--cpus", arg, "is not a number of vCPUs in 1..64");
	cfg->cpus = (unsigned)v;
	cfg->vcpu_pinned = false;
	if (!pin)
		return 0;
	if (strncmp(pin, "pin=", 4))
		return bad("--cpus", pin, "is not pin=CPU:CPU:... (one host CPU per vCPU)");
	for (char *c = strtok_r(pin + 4, ":", &save); c; c = strtok_r(NULL, ":", &save)) {
		if (n == cfg->cpus)
			return bad("--cpus pin", c, "is one CPU more than there are vCPUs");
		if (parse_cpu("--cpus pin", c, &cfg->vcpu_cpu[n]))
			return -EINVAL;
		n++;
	}
	if (n != cfg->cpus)
		return bad("--cpus", pin, "must name exactly one host CPU per vCPU");
	cfg->vcpu_pinned = true;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pollvm --kernel FILE [options]\n"
		"  --kernel FILE     vmlinux (64-bit entry), bzImage, or PVH ELF\n"
		"  --initrd FILE     initial ramdisk\n"
		"  --cmdline STR     kernel command line (default: console=ttyS0 reboot=k panic=-1 ...)\n"
		"  --mem SIZE        guest RAM, e.g. 256M, 2G (default 256M)\n"
		"  --cpus N[,pin=C0:C1:...]  vCPUs, 1..%d (default 1), optionally pinned to host CPUs\n"
		"  --boot auto|linux|pvh  how to enter an ELF kernel (default auto)\n"
		"  --disk path=FILE[,ro=on][,cache=none|writeback][,num-queues=N][,iothread=ID[+ID...]][,serial=STR]\n"
		"               [,logical-block-size=512|4096][,physical-block-size=N]\n"
		"                    a virtio-blk disk (repeatable; default cache=none)\n"
		"  --disk null=on,size=SIZE[,read-zeroes=on][,...]\n"
		"                    a disk with no file: every request completes as an io_uring NOP\n"
		"  --iothread id=ID[,poll-max-ns=N][,poll-grow=N][,poll-shrink=N][,poll-idle-ms=N]\n"
		"            [,poll-contention=on|off][,irq-coalesce-us=N][,irq-max-batch=N][,cpu=N]\n"
		"                    an IOThread for disks to name (one default otherwise); it polls\n"
		"                    up to poll-max-ns (default %u, 0: never), pinned to cpu N\n"
		"  --timeout SECS    end the VM after SECS seconds, exit status 124\n"
		"  --stop-timeout SECS  at most this long to finish in-flight I/O when stopping (default 5)\n"
		"  --stats FILE      write counters as JSON at exit\n"
		"  --sandbox on|off  seccomp filters on vCPU and IOThread threads (default on)\n"
		"  --machine-desc cmdline|fdt  devices on the command line + MP table (default),\n"
		"                    or a device tree in setup_data (vmlinux/bzImage only)\n"
		"  --dump-dtb FILE   write the device tree to FILE and exit 0 (as QEMU dumpdtb)\n"
		"  --quiet           no counter summary on stderr at exit\n"
		"  --help, --version\n"
		"exit status: guest reset or SIGINT/SIGTERM 0; exit device (v<<1)|1 (odd);\n"
		"             bad input 2; guest crash 4; internal error 6; timeout 124\n",
		CONFIG_MAX_CPUS, POLL_DEFAULT_MAX_NS);
}

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS, OPT_TIMEOUT,
       OPT_BOOT, OPT_STATS, OPT_QUIET, OPT_HELP, OPT_VERSION, OPT_DISK, OPT_IOTHREAD,
       OPT_SANDBOX, OPT_MACHINE_DESC, OPT_DUMP_DTB, OPT_STOP_TIMEOUT };

static const struct option options[] = {
	{ "kernel",  required_argument, NULL, OPT_KERNEL },
	{ "initrd",  required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "mem",     required_argument, NULL, OPT_MEM },
	{ "cpus",    required_argument, NULL, OPT_CPUS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
	{ "boot",    required_argument, NULL, OPT_BOOT },
	{ "stats",   required_argument, NULL, OPT_STATS },
	{ "disk",    required_argument, NULL, OPT_DISK },
	{ "iothread", required_argument, NULL, OPT_IOTHREAD },
	{ "sandbox", required_argument, NULL, OPT_SANDBOX },
	{ "machine-desc", required_argument, NULL, OPT_MACHINE_DESC },
	{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
	{ "quiet",   no_argument,       NULL, OPT_QUIET },
	{ "help",    no_argument,       NULL, OPT_HELP },
	{ "version", no_argument,       NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int bad(const char *opt, const char *val, const char *why)
{
	pv_err(PV_INPUT, "%s: '%s' %s", opt, val, why);
	return -EINVAL;
}

/* --stats FILE is written at exit: refuse now a path that cannot be (no side effects). */
static int check_stats_path(const char *p)
{
	struct stat st;
	char *copy = strdup(p);
	int r = 0;

	if (!copy) {
		pv_err(PV_INTERNAL, "--stats %s: out of memory", p);
		return -ENOMEM;
	}
	if (!stat(p, &st) && S_ISDIR(st.st_mode))
		r = bad("--stats", p, "is a directory");
	else if (access(dirname(copy), W_OK))
		r = bad("--stats", p, errno == ENOENT ? "is in a directory that does not exist"
						      : "is in a directory we cannot write to");
	else if (!stat(p, &st) && access(p, W_OK))
		r = bad("--stats", p, "is not writable");
	free(copy);
	return r;
}

int config_parse(struct config *cfg, int argc, char **argv)
{
	uint64_t v, seen = 0;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem = 256ULL << 20;
	cfg->cpus = 1;
	cfg->sandbox = true;
	cfg->stop_timeout = CONFIG_STOP_TIMEOUT_DEFAULT;
	opterr = 0; /* we print our own one-line errors */
	optind = 1;

	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		/* Options with one value may be given once: a second would
		 * silently replace the first.  --disk and --iothread repeat. */
		if (c >= OPT_KERNEL && c < OPT_KERNEL + 64 && c != OPT_DISK && c != OPT_IOTHREAD) {
			uint64_t bit = 1ULL << (c - OPT_KERNEL);
			if (seen & bit) {
				for (const struct option *o = options; o->name; o++)
					if (o->val == c)
						pv_err(PV_INPUT, "--%s is given twice", o->name);
				return -EINVAL;
			}
			seen |= bit;
		}
		switch (c) {
		case OPT_KERNEL:  cfg->kernel = optarg; break;
		case OPT_INITRD:  cfg->initrd = optarg; break;
		case OPT_CMDLINE: cfg->cmdline = optarg; break;
		case OPT_STATS:   cfg->stats_path = optarg; break;
		case OPT_QUIET:   cfg->quiet = true; break;
		case OPT_MACHINE_DESC:
			if (!strcmp(optarg, "cmdline"))
				cfg->machine_desc = MACHINE_DESC_CMDLINE;
			else if (!strcmp(optarg, "fdt"))
				cfg->machine_desc = MACHINE_DESC_FDT;
			else
				return bad("--machine-desc", optarg, "is not cmdline or fdt");
			break;
		case OPT_DUMP_DTB:
			if (!*optarg)
				return bad("--dump-dtb", optarg, "is empty");
			cfg->dump_dtb = optarg;
			break;
		case OPT_MEM:
			if (parse_size(optarg, &v))
				return bad("--mem", optarg, "is not a size (e.g. 256M, 2G)");
			if (v < CONFIG_MIN_MEM || v > CONFIG_MAX_MEM)
				return bad("--mem", optarg, "is out of range (32M..1T)");
			if (v & 0xfff)
				return bad("--mem", optarg, "is not a multiple of 4 KiB");
			cfg->mem = v;
			break;
		case OPT_CPUS:
			if (config_parse_cpus(cfg, optarg))
				return -EINVAL;
			break;
		case OPT_TIMEOUT:
		case OPT_STOP_TIMEOUT: {
			char *end;
			double t;
			errno = 0;
			t = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(t) || t <= 0 || t > 1e7)
				return bad(c == OPT_TIMEOUT ? "--timeout" : "--stop-timeout", optarg,
					   "is not a positive number of seconds");
			if (c == OPT_TIMEOUT)
				cfg->timeout = t;
			else
				cfg->stop_timeout = t;
			break;
		}
		case OPT_BOOT:
			if (!strcmp(optarg, "auto"))
				cfg->boot = BOOT_PREF_AUTO;
			else if (!strcmp(optarg, "linux"))
				cfg->boot = BOOT_PREF_LINUX;
			else if (!strcmp(optarg, "pvh"))
				cfg->boot = BOOT_PREF_PVH;
			else
				return bad("--boot", optarg, "is not one of auto, linux, pvh");
			break;
		case OPT_DISK: {
			struct disk_cfg *d;
			if (cfg->nr_disks == CONFIG_MAX_DISKS)
				return bad("--disk", optarg, "is one disk too many (at most 16)");
			d = &cfg->disks[cfg->nr_disks];
			*d = (struct disk_cfg){ .cache = DISK_CACHE_NONE, .num_queues = 1, .logical_block_size = 512 };
			/* Keys point into argv, which lives as long as the process. */
			if (parse_kv_list(optarg, disk_kv, d))
				return -EINVAL;
			if (d->null && d->path)
				return bad("--disk null", "on", "takes no path= (a null disk has no file)");
			if (!d->null && (d->size || d->read_zeroes))
				return bad("--disk", d->size ? "size" : "read-zeroes", "is only for null=on disks");
			if (d->null && !d->size)
				return bad("--disk null", "on", "needs size=SIZE");
			if (d->null && d->size % d->logical_block_size)
				return bad("--disk size", "", "is not a multiple of the logical block size");
			if (!d->null && !d->path)
				return bad("--disk", "", "needs path=FILE (or null=on,size=SIZE)");
			if (d->physical_block_size && d->physical_block_size < d->logical_block_size)
				return bad("--disk physical-block-size", "",
					   "is smaller than the logical block size");
			cfg->nr_disks++;
			break;
		}
		case OPT_IOTHREAD: {
			struct iothread_cfg *t;
			if (cfg->nr_iothreads == CONFIG_MAX_IOTHREADS)
				return bad("--iothread", optarg, "is one IOThread too many (at most 16)");
			t = &cfg->iothreads[cfg->nr_iothreads];
			iothread_cfg_default(t, NULL);
			if (parse_kv_list(optarg, iothread_kv, t))
				return -EINVAL;
			if (!t->id)
				return bad("--iothread", "", "needs id=ID");
			cfg->nr_iothreads++;
			break;
		}
		case OPT_SANDBOX:
			if (parse_onoff(optarg, &cfg->sandbox))
				return bad("--sandbox", optarg, "is not on or off");
			break;
		case OPT_HELP:
			usage(stdout);
			return 1;
		case OPT_VERSION:
			printf("pollvm %s\n", POLLVM_VERSION);
			return 1;
		case ':':
			pv_err(PV_INPUT, "%s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			pv_err(PV_INPUT, "unknown option '%s' (see --help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		pv_err(PV_INPUT, "unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->kernel) {
		pv_err(PV_INPUT, "--kernel FILE is required (see --help)");
		return -EINVAL;
	}
	if (cfg->stats_path && check_stats_path(cfg->stats_path))
		return -EINVAL;
	return config_check_devices(cfg);
}

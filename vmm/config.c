/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int r;
		if (eq)
			*eq++ = '\0';
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
		if (!valid_id(v, 20))
			return bad("--disk iothread", v, "is not an IOThread id");
		d->iothread = v;
	} else if (!strcmp(k, "serial")) {
		/* virtio 1.2 5.2.6: GET_ID answers at most 20 bytes. */
		if (!*v || strlen(v) > 20)
			return bad("--disk serial", v, "must be 1 to 20 characters");
		d->serial = v;
	} else {
		return bad("--disk", k, "is not a disk option (path, ro, cache, num-queues, iothread, serial)");
	}
	return 0;
}

static int iothread_kv(const char *k, const char *v, void *arg)
{
	struct iothread_cfg *t = arg;

	if (!v)
		return bad("--iothread", k, "needs a value (key=value)");
	if (!strcmp(k, "id")) {
		if (!valid_id(v, 20))
			return bad("--iothread id", v, "must be 1-20 letters, digits, '-', '_' or '.'");
		t->id = v;
	} else {
		return bad("--iothread", k, "is not an IOThread option (id)");
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
		bool found = !d->iothread;
		for (unsigned j = 0; d->iothread && j < cfg->nr_iothreads; j++)
			found |= !strcmp(d->iothread, cfg->iothreads[j].id);
		if (!found)
			return bad("--disk iothread", d->iothread, "names no --iothread id=...");
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(d->path, cfg->disks[j].path))
				return bad("--disk path", d->path, "is used by two disks");
	}
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
		"  --cpus N          vCPUs, 1..%d (default 1)\n"
		"  --boot auto|linux|pvh  how to enter an ELF kernel (default auto)\n"
		"  --disk path=FILE[,ro=on][,cache=none|writeback][,num-queues=N][,iothread=ID][,serial=STR]\n"
		"                    a virtio-blk disk (repeatable; default cache=none)\n"
		"  --iothread id=ID  an IOThread for disks to name (one default otherwise)\n"
		"  --timeout SECS    end the VM after SECS seconds, exit status 124\n"
		"  --stats FILE      write counters as JSON at exit\n"
		"  --sandbox on|off  seccomp filters on vCPU and IOThread threads (default on)\n"
		"  --quiet           no counter summary on stderr at exit\n"
		"  --help, --version\n"
		"exit status: guest reset 0; exit device (v<<1)|1; bad input 2;\n"
		"             guest crash or internal error 3; timeout 124\n",
		CONFIG_MAX_CPUS);
}

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS, OPT_TIMEOUT,
       OPT_BOOT, OPT_STATS, OPT_QUIET, OPT_HELP, OPT_VERSION, OPT_DISK, OPT_IOTHREAD,
       OPT_SANDBOX };

static const struct option options[] = {
	{ "kernel",  required_argument, NULL, OPT_KERNEL },
	{ "initrd",  required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "mem",     required_argument, NULL, OPT_MEM },
	{ "cpus",    required_argument, NULL, OPT_CPUS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "boot",    required_argument, NULL, OPT_BOOT },
	{ "stats",   required_argument, NULL, OPT_STATS },
	{ "disk",    required_argument, NULL, OPT_DISK },
	{ "iothread", required_argument, NULL, OPT_IOTHREAD },
	{ "sandbox", required_argument, NULL, OPT_SANDBOX },
	{ "quiet",   no_argument,       NULL, OPT_QUIET },
	{ "help",    no_argument,       NULL, OPT_HELP },
	{ "version", no_argument,       NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int bad(const char *opt, const char *val, const char *why)
{
	pv_err("%s: '%s' %s", opt, val, why);
	return -EINVAL;
}

int config_parse(struct config *cfg, int argc, char **argv)
{
	uint64_t v;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem = 256ULL << 20;
	cfg->cpus = 1;
	cfg->sandbox = true;
	opterr = 0; /* we print our own one-line errors */
	optind = 1;

	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:  cfg->kernel = optarg; break;
		case OPT_INITRD:  cfg->initrd = optarg; break;
		case OPT_CMDLINE: cfg->cmdline = optarg; break;
		case OPT_STATS:   cfg->stats_path = optarg; break;
		case OPT_QUIET:   cfg->quiet = true; break;
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
			if (parse_uint(optarg, 1, CONFIG_MAX_CPUS, &v))
				return bad("--cpus", optarg, "is not a number of vCPUs in 1..64");
			cfg->cpus = (unsigned)v;
			break;
		case OPT_TIMEOUT: {
			char *end;
			double t;
			errno = 0;
			t = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(t) || t <= 0 || t > 1e7)
				return bad("--timeout", optarg, "is not a positive number of seconds");
			cfg->timeout = t;
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
			*d = (struct disk_cfg){ .cache = DISK_CACHE_NONE, .num_queues = 1 };
			/* Keys point into argv, which lives as long as the process. */
			if (parse_kv_list(optarg, disk_kv, d))
				return -EINVAL;
			if (!d->path)
				return bad("--disk", "", "needs path=FILE");
			cfg->nr_disks++;
			break;
		}
		case OPT_IOTHREAD: {
			struct iothread_cfg *t;
			if (cfg->nr_iothreads == CONFIG_MAX_IOTHREADS)
				return bad("--iothread", optarg, "is one IOThread too many (at most 16)");
			t = &cfg->iothreads[cfg->nr_iothreads];
			*t = (struct iothread_cfg){ 0 };
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
			pv_err("%s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			pv_err("unknown option '%s' (see --help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		pv_err("unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->kernel) {
		pv_err("--kernel FILE is required (see --help)");
		return -EINVAL;
	}
	return config_check_devices(cfg);
}

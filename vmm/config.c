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
		"  --timeout SECS    end the VM after SECS seconds, exit status 124\n"
		"  --stats FILE      write counters as JSON at exit\n"
		"  --quiet           no counter summary on stderr at exit\n"
		"  --help, --version\n"
		"exit status: guest reset 0; exit device (v<<1)|1; bad input 2;\n"
		"             guest crash or internal error 3; timeout 124\n",
		CONFIG_MAX_CPUS);
}

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS, OPT_TIMEOUT,
       OPT_BOOT, OPT_STATS, OPT_QUIET, OPT_HELP, OPT_VERSION };

static const struct option options[] = {
	{ "kernel",  required_argument, NULL, OPT_KERNEL },
	{ "initrd",  required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "mem",     required_argument, NULL, OPT_MEM },
	{ "cpus",    required_argument, NULL, OPT_CPUS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "boot",    required_argument, NULL, OPT_BOOT },
	{ "stats",   required_argument, NULL, OPT_STATS },
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
	return 0;
}

/* SPDX-License-Identifier: MIT */
#include "stats.h"
#include "evloop.h"
#include "vcpu.h"
#include "vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void stats_counter(FILE *f, const char **sep, bool json, const char *key, uint64_t v)
{
	fprintf(f, json ? "%s\"%s\": %llu" : "%s%s=%llu", *sep, key, (unsigned long long)v);
	*sep = json ? ", " : " ";
}

/* The stderr line and the JSON object of a vCPU, from one list (VCPU_STATS). */
static void vcpu_counters(FILE *f, const struct vcpu_stats *s, bool json)
{
	const char *sep = "";

	STATS_COUNTERS(VCPU_STATS, f, &sep, json, s);
}

void stats_print(const struct vm *vm, FILE *f)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		fprintf(f, "pollvm: stats vcpu%u: ", i);
		vcpu_counters(f, &vm->vcpus[i].st, false);
		fputc('\n', f);
	}
	fprintf(f, "pollvm: stats uart0: tx_bytes=%llu rx_bytes=%llu\n",
		(unsigned long long)vm->uart.tx_bytes, (unsigned long long)vm->uart.rx_bytes);
	disks_stats_print(&vm->disks, f);
}

int stats_write_json(struct vm *vm, const char *path, bool final)
{
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	FILE *f;

	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		int e = errno;
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		errno = e;
		return -1;
	}

	fprintf(f, "{\n  \"snapshot\": {\"seq\": %u, \"final\": %s, \"mono_ns\": %llu},\n",
		vm->stats_seq++, final ? "true" : "false", (unsigned long long)evloop_now_ns(NULL));
	fprintf(f, "  \"exit\": {\"status\": %d, \"reason\": ", vm->exit_status);
	json_string(f, vm->exit_why);
	fprintf(f, "},\n  \"boot\": {\"first_run_ms\": %.3f, \"init_marker_ms\": ",
		vm->t_first_run.tv_sec ? ts_ms_between(&vm->t_start, &vm->t_first_run) : 0.0);
	if (vm->marker_seen)
		fprintf(f, "%.3f", vm->marker_ms);
	else
		fprintf(f, "null");
	fprintf(f, "},\n  \"vcpus\": [");
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		fprintf(f, "%s\n    {\"id\": %u, ", i ? "," : "", i);
		vcpu_counters(f, &vm->vcpus[i].st, true);
		fputc('}', f);
	}
	fprintf(f, "\n  ],\n  \"uart0\": {\"tx_bytes\": %llu, \"rx_bytes\": %llu},\n",
		(unsigned long long)vm->uart.tx_bytes, (unsigned long long)vm->uart.rx_bytes);
	disks_stats_json(&vm->disks, f);
	/* When the last counter was read: the threads count on while this one
	 * reads, so an event between mono_ns and here may or may not be in the
	 * snapshot (scripts/trace-exits --pid allows for those). */
	fprintf(f, ",\n  \"snapshot_end\": {\"mono_ns\": %llu}\n}\n", (unsigned long long)evloop_now_ns(NULL));

	if (fflush(f) || fsync(fileno(f)) || ferror(f)) {
		int e = errno;
		fclose(f);
		unlink(tmp);
		free(tmp);
		errno = e;
		return -1;
	}
	fclose(f);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		free(tmp);
		errno = e;
		return -1;
	}
	free(tmp);
	return 0;
}

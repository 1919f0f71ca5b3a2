/* SPDX-License-Identifier: MIT */
#include "stats.h"
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

void stats_print(const struct vm *vm, FILE *f)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_stats *s = &vm->vcpus[i].st;
		fprintf(f, "pollvm: stats vcpu%u: exits=%llu io=%llu mmio=%llu unclaimed_io=%llu "
			"unclaimed_mmio=%llu intr=%llu other=%llu\n", i,
			(unsigned long long)s->exits, (unsigned long long)s->io,
			(unsigned long long)s->mmio, (unsigned long long)s->io_unclaimed,
			(unsigned long long)s->mmio_unclaimed, (unsigned long long)s->intr,
			(unsigned long long)s->other);
	}
	fprintf(f, "pollvm: stats uart0: tx_bytes=%llu rx_bytes=%llu\n",
		(unsigned long long)vm->uart.tx_bytes, (unsigned long long)vm->uart.rx_bytes);
	disks_stats_print(&vm->disks, f);
}

int stats_write_json(const struct vm *vm, const char *path)
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

	fprintf(f, "{\n  \"exit\": {\"status\": %d, \"reason\": ", vm->exit_status);
	json_string(f, vm->exit_why);
	fprintf(f, "},\n  \"boot\": {\"first_run_ms\": %.3f, \"init_marker_ms\": ",
		vm->t_first_run.tv_sec ? ts_ms_between(&vm->t_start, &vm->t_first_run) : 0.0);
	if (vm->marker_seen)
		fprintf(f, "%.3f", vm->marker_ms);
	else
		fprintf(f, "null");
	fprintf(f, "},\n  \"vcpus\": [");
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_stats *s = &vm->vcpus[i].st;
		fprintf(f, "%s\n    {\"id\": %u, \"exits\": %llu, \"io\": %llu, \"mmio\": %llu, "
			"\"unclaimed_io\": %llu, \"unclaimed_mmio\": %llu, \"intr\": %llu, \"other\": %llu}",
			i ? "," : "", i, (unsigned long long)s->exits, (unsigned long long)s->io,
			(unsigned long long)s->mmio, (unsigned long long)s->io_unclaimed,
			(unsigned long long)s->mmio_unclaimed, (unsigned long long)s->intr,
			(unsigned long long)s->other);
	}
	fprintf(f, "\n  ],\n  \"uart0\": {\"tx_bytes\": %llu, \"rx_bytes\": %llu},\n",
		(unsigned long long)vm->uart.tx_bytes, (unsigned long long)vm->uart.rx_bytes);
	disks_stats_json(&vm->disks, f);
	fprintf(f, "\n}\n");

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

/* SPDX-License-Identifier: MIT */
/*
 * A failure reported the vmm/log.h way, checked by a unit test: the call
 * returned -errno, printed exactly one "pollvm: " line on stderr, and
 * noted the class the caller's exit status comes from.
 *
 *   assert_int_equal(PV_FAILS(PV_INPUT, "multiple of 512", blk_file_open(...)), -EINVAL);
 *
 * stderr goes to a temporary file only while the call runs: cmocka
 * reports a failed assertion on stderr, so none may run in between.
 * Include after <cmocka.h>.
 */
#ifndef POLLVM_TESTS_PV_CAPTURE_H
#define POLLVM_TESTS_PV_CAPTURE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/log.h"

struct pv_capture {
	FILE *file;
	int saved_fd;
	char text[1024];
};

/* From here on stderr is captured, and no class is noted. */
static inline void pv_capture_begin(struct pv_capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	assert_non_null(c->file);
	c->saved_fd = dup(STDERR_FILENO);
	assert_true(c->saved_fd >= 0);
	assert_true(dup2(fileno(c->file), STDERR_FILENO) >= 0);
	pv_fail_reset();
}

/* stderr back; what was printed meanwhile (cut at c->text's size). */
static inline const char *pv_capture_end(struct pv_capture *c)
{
	size_t n;

	fflush(stderr);
	dup2(c->saved_fd, STDERR_FILENO);
	close(c->saved_fd);
	rewind(c->file);
	n = fread(c->text, 1, sizeof(c->text) - 1, c->file);
	c->text[n] = 0;
	fclose(c->file);
	return c->text;
}

/* r < 0, one "pollvm: " line holding want, and why noted. */
static inline int pv_capture_check(struct pv_capture *c, int r, enum pv_fail why, const char *want)
{
	const char *t = pv_capture_end(c);
	const char *nl = strchr(t, '\n');

	if (r >= 0 || strncmp(t, "pollvm: ", 8) || !nl || nl[1] || !strstr(t, want))
		fail_msg("expected -errno and one line with \"%s\"; got %d and: %s", want, r, t);
	assert_int_equal(pv_fail_status("the call", r), why);
	return r;
}

/* call's result, after checking it failed the log.h way with class why and want in its line. */
#define PV_FAILS(why, want, call) ({ \
	struct pv_capture pv_c_; \
	pv_capture_begin(&pv_c_); \
	int pv_r_ = (call); \
	pv_capture_check(&pv_c_, pv_r_, why, want); \
})

#endif

/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdatomic.h>
#include <string.h>

/* 0: nothing noted yet (no class is 0: EXIT_GUEST_RESET is no failure). */
static atomic_int pv_fail_first;

void pv_fail_note(enum pv_fail why)
{
	int none = 0;

	atomic_compare_exchange_strong(&pv_fail_first, &none, (int)why);
}

int pv_fail_status(const char *step, int err)
{
	int why = atomic_load(&pv_fail_first);

	if (why)
		return why;
	pv_err(PV_INTERNAL, "internal error: %s failed without saying why (%s)", step,
	       err < 0 ? strerror(-err) : "no error code");
	return EXIT_INTERNAL;
}

void pv_fail_reset(void)
{
	atomic_store(&pv_fail_first, 0);
}

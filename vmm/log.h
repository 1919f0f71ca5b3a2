/* SPDX-License-Identifier: MIT */
/* Messages go to stderr: stdout belongs to the guest console. */
#ifndef POLLVM_VMM_LOG_H
#define POLLVM_VMM_LOG_H

#include <stdio.h>

#ifndef POLLVM_VERSION
#define POLLVM_VERSION "0.1"
#endif

#define pv_err(fmt, ...)  fprintf(stderr, "pollvm: " fmt "\n", ##__VA_ARGS__)
#define pv_info(fmt, ...) fprintf(stderr, "pollvm: " fmt "\n", ##__VA_ARGS__)

/* Exit statuses (README "Exit status"). */
#define EXIT_GUEST_RESET 0
#define EXIT_BAD_INPUT   2
#define EXIT_GUEST_CRASH 3
#define EXIT_INTERNAL    6
#define EXIT_TIMEOUT     124

#endif

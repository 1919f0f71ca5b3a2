# libFuzzer harnesses (clang, ASan + UBSan) for the guest-facing parsers.
#   make fuzz                 each harness for FUZZ_SECONDS (default 60); fails on any finding
#   make check-fuzz           a short smoke run of each (part of make check)
# Findings are written to build/fuzz/findings/; keep each as a corpus file
# and a unit test once fixed.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -D_GNU_SOURCE -Wall -Wextra -Werror \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# The device-side sources a harness may reach (no KVM, no io_uring), and what
# evloop.c needs (its polling policy, vmm/poll_*.c).
FUZZ_SRCS    := devices/virtq.c devices/virtio_mmio.c devices/blk.c devices/blk_parse.c devices/irq_batch.c vmm/evloop.c vmm/guest_mem.c vmm/bus.c \
                $(wildcard vmm/poll_*.c)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS) $(wildcard devices/*.h vmm/*.h tests/lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS) -lpthread

.PHONY: fuzz check-fuzz
fuzz: $(FUZZ_TARGETS)
	@scripts/run-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

check-fuzz: $(FUZZ_TARGETS)
	@scripts/run-fuzz $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

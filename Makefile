# pollvm: one Makefile, no other build system.
#   make            build/pollvm
#   make guest      test kernel + initramfs (cached in ~/.cache/pollvm)
#   make run        the main job: build, boot the test guest, run fio in it
#   make check      every test: unit (ASan/UBSan), instruction budget, fuzz smoke, whole-VM
#   make deps       install what is missing (apt-get, idempotent)
#   make clean

SHELL   := /bin/bash
CC      ?= gcc
BUILD   := build
VERSION := 0.1
CFLAGS_COMMON := -std=gnu11 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
                 -DPOLLVM_VERSION='"$(VERSION)"' -MMD -MP
CFLAGS  ?= -O2
LDLIBS  := -lpthread -luring -lfdt -lm

SRCS      := $(sort $(wildcard vmm/*.c devices/*.c firmware/*.c))
LIB_SRCS  := $(filter-out vmm/main.c,$(SRCS))
OBJS      := $(SRCS:%.c=$(BUILD)/obj/%.o)

# Unit tests link the device/firmware/vmm objects built with sanitizers.
SAN       := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps guest guests-mini run check check-unit check-vm check-layers check-shell check-counters clean
all: $(BUILD)/pollvm

deps:
	@scripts/deps

$(BUILD)/pollvm: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(SAN) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(SAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(SAN) -o $@ $< $(SAN_OBJS) $(LDLIBS) -lcmocka

# Kernel-less PVH test guests (tests/guests/mini.S), one per MINI_MODE.
MINI_MODES := exit-port:1 exit-mmio:2 i8042:3 reboot-t:4 triple:5 hang:6 marker:7
MINI_ELFS  := $(foreach m,$(MINI_MODES),$(BUILD)/guests/mini-$(firstword $(subst :, ,$(m))).elf)
mini_mode   = $(lastword $(subst :, ,$(filter $(1):%,$(MINI_MODES))))

$(BUILD)/guests/mini-%.elf: tests/guests/mini.S
	@mkdir -p $(dir $@)
	$(CC) -c -DMINI_MODE=$(call mini_mode,$*) -o $(@:.elf=.o) $<
	$(LD) -N -nostdlib -static --build-id=none -Ttext=0x100000 -o $@ $(@:.elf=.o)

guests-mini: $(MINI_ELFS)

guest:
	@scripts/build-guest >/dev/null

run: deps all
	@scripts/run-guest

check-unit: $(UNIT_BINS)
	@scripts/run-unit $(UNIT_BINS)

check-vm: all guests-mini blkbench
	@tests/integration/run

check-layers:
	@scripts/check-layers

check-shell:
	@scripts/check-shell

check-counters:
	@scripts/check-counters

check: deps
	@$(MAKE) --no-print-directory check-layers check-shell check-counters
	@$(MAKE) --no-print-directory check-unit blkbench-test check-insn
	@tests/integration/test-lib
	@$(MAKE) --no-print-directory check-fuzz
	@$(MAKE) --no-print-directory check-vm

clean:
	rm -rf $(BUILD)

# Sub-makefiles of self-contained parts (the blkbench guest, fuzzers, ...).
-include $(sort $(wildcard guest/*/*.mk tests/*/*.mk))

.SECONDARY:

-include $(OBJS:.o=.d) $(SAN_OBJS:.o=.d) $(UNIT_BINS:=.d)

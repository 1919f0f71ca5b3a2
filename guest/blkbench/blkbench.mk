# blkbench: a freestanding PVH guest that drives virtio-blk from guest user
# mode (guest/blkbench/README.md).  Included by the top-level Makefile.
#   make blkbench   ->  build/guests/blkbench.elf

BLKBENCH_DIR  := guest/blkbench
BLKBENCH_ELF  := $(BUILD)/guests/blkbench.elf
BLKBENCH_OBJ  := $(BUILD)/guests/blkbench
BLKBENCH_SRCS := $(addprefix $(BLKBENCH_DIR)/,boot.S paging.S entry.S cpu.c kernel.c apic.c \
                   lib.c opts.c virtio.c blk.c stats.c verify.c job.c hostile.c main.c)
BLKBENCH_OBJS := $(patsubst $(BLKBENCH_DIR)/%,$(BLKBENCH_OBJ)/%.o,$(BLKBENCH_SRCS))

# No libc, no PIC, no red zone (interrupts land on the kernel stack in
# CPL0 code), no SSE/x87 anywhere (the trap path saves only general
# registers, and XSAVE/XRSTOR are among what PVM's CPL0 emulation lacks),
# addresses below 2 GiB (-mcmodel=small, identity-mapped from 1 MiB).
BLKBENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdlib \
                   -fno-pic -fno-pie -mno-red-zone -mcmodel=small -mgeneral-regs-only \
                   -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
                   -fno-builtin -MMD -MP
BLKBENCH_LDFLAGS := -nostdlib -static -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
                    -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -T $(BLKBENCH_DIR)/link.ld

.PHONY: blkbench
blkbench: $(BLKBENCH_ELF)

$(BLKBENCH_ELF): $(BLKBENCH_OBJS) $(BLKBENCH_DIR)/link.ld
	@mkdir -p $(dir $@)
	$(CC) $(BLKBENCH_CFLAGS) $(BLKBENCH_LDFLAGS) -o $@ $(BLKBENCH_OBJS)

$(BLKBENCH_OBJ)/%.c.o: $(BLKBENCH_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BLKBENCH_CFLAGS) -c -o $@ $<

$(BLKBENCH_OBJ)/%.S.o: $(BLKBENCH_DIR)/%.S
	@mkdir -p $(dir $@)
	$(CC) $(BLKBENCH_CFLAGS) -c -o $@ $<

-include $(BLKBENCH_OBJS:.o=.d)

# Host-side test of the command-line parser (opts.c and lib.c build for
# the host as they are).  `make blkbench-test` builds and runs it.
BLKBENCH_TEST := $(BUILD)/tests/blkbench_opts

.PHONY: blkbench-test
blkbench-test: $(BLKBENCH_TEST)
	$(BLKBENCH_TEST)

$(BLKBENCH_TEST): $(BLKBENCH_DIR)/test_opts.c $(BLKBENCH_DIR)/opts.c $(BLKBENCH_DIR)/lib.c \
		  $(BLKBENCH_DIR)/opts.h $(BLKBENCH_DIR)/lib.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -fno-builtin -o $@ \
		$(BLKBENCH_DIR)/test_opts.c $(BLKBENCH_DIR)/opts.c $(BLKBENCH_DIR)/lib.c

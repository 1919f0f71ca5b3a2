# bench-device: pollvm's device path driven from a host thread, next to
# io_uring used directly (tests/bench/bench_device.c, scripts/bench-device),
# and the IOThread's instruction budget checked with callgrind.
#   make                 also builds build/bench-device (production flags)
#   make check-insn      instructions per request against tests/bench/insn-budget
#                        (part of make check; scripts/check-insn --update rewrites it)

BENCH_DEVICE := $(BUILD)/bench-device

all: $(BENCH_DEVICE)

# The production objects (-O2, no sanitizers): what pollvm runs.
$(BENCH_DEVICE): tests/bench/bench_device.c $(filter-out $(BUILD)/obj/vmm/main.o,$(OBJS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) -o $@ $< $(filter %.o,$^) $(LDLIBS)

.PHONY: check-insn
check-insn: $(BENCH_DEVICE)
	@scripts/check-insn

-include $(BENCH_DEVICE).d

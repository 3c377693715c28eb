# Wrappers around CMake + Ninja.  `make demo` and `make check` are the two
# commands the README promises; both install what they need first.
BUILD ?= build
CMAKE_FLAGS ?=
# check-kernel: static binaries for the test guest; KERNEL_SCENARIOS picks
# scenarios by name (default: all of tests/kernel/scenarios/).
KBUILD ?= build-kernel
KERNEL_SCENARIOS ?=

.PHONY: all build demo check stress check-kernel bench install clean

all: build

$(BUILD)/build.ninja:
	scripts/deps.sh build
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: $(BUILD)/build.ninja
	cmake --build $(BUILD)

demo: build
	scripts/demo.sh $(BUILD)

check:
	scripts/deps.sh check
	$(MAKE) build
	cd $(BUILD) && ctest --output-on-failure -j2

# The reliability tests at full size (label "stress"): 10 M known ranges
# and 1 M media runs (emul-scale), 1 M model steps (emul-model).  A few
# minutes; make check runs them smaller.
stress:
	scripts/deps.sh check
	$(MAKE) build
	cd $(BUILD) && UDAX_TEST_STRESS=1 ctest --output-on-failure -L stress

# udax against Linux 6.1 with emulated NVDIMMs, under QEMU (tests/kernel/).
# Needs root the first time (apt-get install); SKIPPED when the kernel
# cannot be downloaded.
check-kernel:
	scripts/deps.sh build
	UDAX_KERNEL_BUILD=$(abspath $(KBUILD)) tests/kernel/run-all.sh $(KERNEL_SCENARIOS)

bench:
	scripts/deps.sh bench
	$(MAKE) build
	$(BUILD)/bench/udax-bench $(BENCH_FLAGS)

# make install [PREFIX=/usr/local] [DESTDIR=...]
PREFIX ?= /usr/local
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(KBUILD)

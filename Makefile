# Wrappers around CMake + Ninja.  `make demo` and `make check` are the two
# commands the README promises; both install what they need first.
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all build demo check bench install clean

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

bench:
	scripts/deps.sh bench
	$(MAKE) build
	$(BUILD)/bench/udax-bench $(BENCH_FLAGS)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD)

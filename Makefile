# The two set-up commands of the README, and the pieces they are made of.
#   make demo   builds hivewarden and runs the built-in default policy over the sample operations
#   make test   builds everything and runs every test, normally and under ASan + UBSan
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps configure build demo python test test-release test-asan test-tsan windows bench format lint clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target hivewarden
	$(BUILD)/src/cli/hivewarden demo

# The Python module, in $(BUILD)/python/hivewarden: PYTHONPATH=$(BUILD)/python /usr/bin/python3
python: configure
	cmake --build $(BUILD) -j $(JOBS) --target python hivewarden
	@test -d $(BUILD)/python/hivewarden || (echo "make python: pybind11 or Python's headers not found (see cmake's output)"; exit 1)

test: test-release test-asan test-tsan

test-release: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHIVEWARDEN_SANITIZE=ON -DHIVEWARDEN_BENCH=OFF $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# ThreadSanitizer over the tests that run threads: engine swaps and contexts, socket delivery,
# `replay --jobs` (the ordered pool, the parallel reader, the CLI deciding on several threads).
TSAN_BUILD ?= build-tsan
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHIVEWARDEN_TSAN=ON -DHIVEWARDEN_BENCH=OFF $(CMAKE_ARGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target hivewarden_core_tests hivewarden_consumer_tests \
	  hivewarden_util_tests hivewarden_replay_tests hivewarden_cli_tests
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) \
	  -R 'Engine|SocketChannel|OrderedPool|ReadLogsInOrder|ReplayJobs'

# The Windows driver and service, cross-compiled with mingw-w64, and the checks on them; the core's
# tests built for Windows and run under wine64.
WIN_BUILD ?= build-win
# The box (tests/win/box) runs the driver's own objects under wine64 against a stand-in kernel and
# compares its decisions with the Linux CLI's, so the CLI is built first.
windows: configure
	cmake --build $(BUILD) -j $(JOBS) --target hivewarden
	cmake -S src/win/cross -B $(WIN_BUILD) -G Ninja -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/mingw-w64-x86_64.cmake
	cmake --build $(WIN_BUILD) -j $(JOBS)
	bash scripts/check-windows-binaries.sh $(WIN_BUILD)
	bash scripts/run-box.sh $(BUILD) $(WIN_BUILD)
	bash scripts/check-svc-errors.sh $(WIN_BUILD)
	bash scripts/run-windows-core-tests.sh $(WIN_BUILD) $(WIN_BUILD)/core-tests/hivewarden_core_tests.exe

bench: build
	$(BUILD)/bench/hivewarden_bench
	$(BUILD)/bench/hivewarden_matcher_bench
	$(BUILD)/bench/hivewarden_host_bench
	$(BUILD)/bench/hivewarden_replay_bench

format:
	find include src tests bench fuzz -name '*.hpp' -o -name '*.cpp' | xargs clang-format -i

# Checks on the source itself: no function over 80 lines without a reason ("long because").
lint:
	python3 scripts/check-layers
	python3 scripts/check-function-length --self-test
	python3 scripts/check-function-length

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(WIN_BUILD) $(FUZZ_BUILD)

# Fuzzing (clang + libFuzzer): `make fuzz-smoke` runs every target briefly (CI), `make fuzz` longer.
SHELL := /bin/bash
FUZZ_BUILD   ?= build-fuzz
FUZZ_TARGETS := policy_yaml policy_blob policy_conditions key_path eval_line notification reg_file event_reader sysmon_config
FUZZ_SECONDS ?= 600
SMOKE_SECONDS ?= 20

.PHONY: fuzz-build fuzz fuzz-smoke
fuzz-build: deps
	@command -v clang++ >/dev/null || (apt-get update -qq && apt-get install -y -qq clang libclang-rt-14-dev)
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHIVEWARDEN_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp $(FUZZ_BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t || exit 1; done

fuzz-smoke: fuzz-build
	@for t in $(FUZZ_TARGETS); do mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp $(FUZZ_BUILD)/fuzz/fuzz_$$t -max_total_time=$(SMOKE_SECONDS) -print_final_stats=1 \
	    $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; done

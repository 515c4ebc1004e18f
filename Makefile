# Backstop Keeper. The two commands a new user runs:
#   make demo   - the keeper on the embedded devnet
#   make test   - set up, build with ASan+UBSan, run every test
# Both install their own dependencies (scripts/install-deps).

BUILD      ?= build
TESTBUILD  ?= build-test
BENCHBUILD ?= build-bench
JOBS       ?= $(shell nproc)

.PHONY: all keeper deps test bench demo clean format

all: keeper

keeper:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target keeper

deps:
	./scripts/install-deps

test: deps
	cmake -S . -B $(TESTBUILD) -DCMAKE_C_COMPILER=clang \
	    -DCMAKE_BUILD_TYPE=Debug -DKP_SANITIZE=ON -DKP_WERROR=ON \
	    -DKP_FUZZ=ON >/dev/null
	cmake --build $(TESTBUILD) -j$(JOBS)
	cd $(TESTBUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j$(JOBS)

bench: deps
	cmake -S . -B $(BENCHBUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BENCHBUILD) -j$(JOBS) >$(BENCHBUILD)/build.log 2>&1 \
	    || { cat $(BENCHBUILD)/build.log; exit 1; }
	@./scripts/run-bench $(BENCHBUILD)

demo: deps keeper
	./scripts/demo $(BUILD)

clean:
	rm -rf $(BUILD) $(TESTBUILD) $(BENCHBUILD)

format:
	clang-format -i */*.c */*.h

# The two commands a newcomer needs: `make run` and `make test`.
# Both install what is missing (Debian packages), configure once with Ninja and build
# incrementally; nothing is rebuilt that did not change.
.PHONY: run run-cluster test test-tsan build build-asan build-fuzz fuzz deps format format-check layer-check bench bench-devices bench-groups bench-automations bench-timeseries bench-commands bench-downloads bench-signing bench-ota-rollout bench-webhooks bench-postgres bench-cluster clean

JOBS ?= $(shell nproc)
# Executions per fuzz target in `make fuzz`.
FUZZ_RUNS ?= 10000000

deps:
	@bash scripts/install-deps.sh

build/release/build.ninja:
	cmake --preset release

build/asan/build.ninja:
	cmake --preset asan

build/fuzz/build.ninja:
	cmake --preset fuzz

build: deps build/release/build.ninja
	cmake --build build/release -j $(JOBS)

build-asan: deps build/asan/build.ninja
	cmake --build build/asan -j $(JOBS)

# The libFuzzer targets of fuzz/: clang, ASan + UBSan, their own tree.
build-fuzz: deps build/fuzz/build.ninja
	cmake --build build/fuzz -j $(JOBS)

# Starts the server in the foreground on its embedded defaults (see README).
run: build
	./build/release/bin/rainmaker-server $(ARGS)

# Builds the sanitized tree (ASan + UBSan) and runs every test: unit, storage, e2e, SDK; then
# runs each fuzz target for a few seconds.
test: build-asan build-fuzz format-check layer-check
	cd build/asan && ctest --output-on-failure -j $(JOBS)
	bash scripts/fuzz.sh short

# PostgreSQL, an external Mosquitto, two server instances and nginx in front, on loopback, in the
# foreground (scripts/run-cluster.sh; RAINMAKER_HTTP_PORT is the proxy's port).
run-cluster: build
	bash scripts/run-cluster.sh

# The tests of what runs on several threads under ThreadSanitizer (its own tree, build/tsan).
test-tsan: deps
	JOBS=$(JOBS) bash scripts/test-tsan.sh

# Runs each fuzz target for FUZZ_RUNS executions (results: docs/PERFORMANCE.md, "Fuzzing").
fuzz: build-fuzz
	FUZZ_RUNS=$(FUZZ_RUNS) bash scripts/fuzz.sh long

format:
	cmake --build build/asan --target format

format-check:
	@bash scripts/format-check.sh

layer-check:
	@bash scripts/layer-check.sh

bench: build
	bash bench/run.sh

bench-devices: build
	bash bench/devices.sh

bench-groups: build
	bash bench/groups.sh

bench-automations: build
	bash bench/automations.sh

bench-timeseries: build
	bash bench/timeseries.sh

bench-commands: build
	bash bench/commands.sh

# Needs nginx (the baseline): apt-get install nginx-light.
bench-downloads: build
	bash bench/downloads.sh

bench-signing: build
	bash bench/signing.sh

bench-ota-rollout: build
	bash bench/ota_rollout.sh

bench-webhooks: build
	bash bench/webhooks.sh

# The REST and devices benches with the stores on PostgreSQL beside SQLite (bench/postgres.sh).
bench-postgres: build
	bash bench/postgres.sh

bench-cluster: build
	bash bench/cluster.sh

clean:
	rm -rf build

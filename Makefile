# The two commands a newcomer needs: `make run` and `make test`.
# Both install what is missing (Debian packages), configure once with Ninja and build
# incrementally; nothing is rebuilt that did not change.
.PHONY: run test build build-asan deps format format-check bench bench-devices bench-groups clean

JOBS ?= $(shell nproc)

deps:
	@bash scripts/install-deps.sh

build/release/build.ninja:
	cmake --preset release

build/asan/build.ninja:
	cmake --preset asan

build: deps build/release/build.ninja
	cmake --build build/release -j $(JOBS)

build-asan: deps build/asan/build.ninja
	cmake --build build/asan -j $(JOBS)

# Starts the server in the foreground on its embedded defaults (see README).
run: build
	./build/release/bin/rainmaker-server $(ARGS)

# Builds the sanitized tree (ASan + UBSan) and runs every test: unit, storage, e2e, SDK.
test: build-asan format-check
	cd build/asan && ctest --output-on-failure -j $(JOBS)

format:
	cmake --build build/asan --target format

format-check:
	@bash scripts/format-check.sh

bench: build
	bash bench/run.sh

bench-devices: build
	bash bench/devices.sh

bench-groups: build
	bash bench/groups.sh

clean:
	rm -rf build

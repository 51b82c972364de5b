# The two commands: `make demo` and `make test`.  Both install what is
# missing (scripts/bootstrap), build, and run.  Meson + Ninja do the build.

BUILD    ?= build
SANBUILD ?= build-san
DEMO_DIR ?= demo

.PHONY: all bootstrap build sanitize demo test bench fuzz tsan soak killtest mutate clean

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD)/build.ninja:
	@meson setup $(BUILD) --buildtype=debugoptimized >/dev/null

$(SANBUILD)/build.ninja:
	@meson setup $(SANBUILD) --buildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false >/dev/null

build: bootstrap $(BUILD)/build.ninja
	@ninja -C $(BUILD) >/dev/null || ninja -C $(BUILD)

sanitize: bootstrap $(SANBUILD)/build.ninja
	@ninja -C $(SANBUILD) >/dev/null || ninja -C $(SANBUILD)

demo: build
	@scripts/demo $(BUILD)/baomi $(DEMO_DIR)

test: build sanitize
	@scripts/test-all $(BUILD) $(SANBUILD)

bench: build
	@scripts/bench-all $(BUILD)

# The 60-second soak of the HTTP API (issue 3: RSS grows < 5 %), after one
# short round of each throughput measurement; needs wrk (bootstrap).
soak: build
	@BUILD=$(BUILD) bench/http_api.sh 2 1 $${SOAK:-60}

# Every kind of write killed with SIGKILL at random moments, KILL_ROUNDS times
# each (default 20; kill.test.mjs in `make test` does one), then checked
# (docs/OPERATIONS.md, "A killed process").  KILL_SEED repeats a run.
killtest: build
	@BAOMI=$(CURDIR)/$(BUILD)/baomi node tests/http/kill.mjs $${KILL_ROUNDS:-20} $${KILL_SEED:-}

fuzz: bootstrap
	@command -v clang >/dev/null || apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
	@scripts/fuzz

# ThreadSanitizer over the threaded unit tests and the HTTP suite (build-tsan,
# tests/tsan.supp); separate from `make test`, it runs several times slower.
tsan: bootstrap
	@ldconfig -p | grep -q 'libtsan\.so\.2' || apt-get install -y -qq libtsan2 >/dev/null
	@scripts/tsan

# Mutation testing of the clearance and decision rules (scripts/mutate):
# one small change at a time to gate, level, lifecycle, snapshot, clearance
# and decision code, rebuilt in build-mut, must make a unit test fail.
# Separate from `make test`: it runs for half an hour or more.  MUTATE_MAX
# (mutants per file, default 40) and file arguments: see the script.
mutate: bootstrap
	@scripts/mutate $(MUTATE_FILES)

clean:
	rm -rf $(BUILD) $(SANBUILD) build-fuzz build-tsan build-mut

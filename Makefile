# The two commands: `make demo` and `make test`.  Both install what is
# missing (scripts/bootstrap), build, and run.  Meson + Ninja do the build.

BUILD    ?= build
SANBUILD ?= build-san
DEMO_DIR ?= demo

.PHONY: all bootstrap build sanitize demo test bench fuzz soak clean

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

fuzz: bootstrap
	@command -v clang >/dev/null || apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
	@scripts/fuzz

clean:
	rm -rf $(BUILD) $(SANBUILD) build-fuzz

# The front door. `make` builds, `make check` runs every test (also under
# ASan+UBSan), `make demo` shows a simulated host being laid out, `make bench`
# prints the benchmark table, `make install` installs, `make deb` builds the
# Debian packages into $(DEB_OUT), `make image` builds the container image
# (deployments/container/Containerfile) into $(IMAGE_OUT) (doc/container.md),
# `make fuzz` runs each libFuzzer harness (tests/fuzz) for FUZZ_TIME seconds.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME  ?= 60
PREFIX     ?= /usr/local
MESON_OPTS ?=
DEB_OUT    ?= $(BUILD)/deb
IMAGE_OUT  ?= $(BUILD)/image

.PHONY: all deps build build-asan check demo bench install deb image clean fuzz

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX) $(MESON_OPTS)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

# clang with libFuzzer; the library is built with coverage (fuzzer-no-link)
# and ASan+UBSan so that the fuzzer sees into it.
$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debugoptimized -Dc_args=-fsanitize=fuzzer-no-link -Dman=disabled $(MESON_OPTS)

fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	@scripts/fuzz $(FUZZ_BUILD) $(FUZZ_TIME)

check: build build-asan
	@scripts/run-tests $(BUILD) $(ASAN_BUILD)

demo: build
	@scripts/demo $(BUILD)

bench: build
	@bench/run $(BUILD)
	@bench/agent $(BUILD)
	@bench/image $(BUILD)
	@bench/large $(BUILD)

# PREFIX and DESTDIR count on every run, also when build/ was configured
# before (by make, make demo or make check) with another prefix.
install: build
	meson configure $(BUILD) --prefix=$(PREFIX)
	ninja -C $(BUILD)
	meson install -C $(BUILD) --no-rebuild $(if $(DESTDIR),--destdir "$(abspath $(DESTDIR))")

deb: deps
	scripts/build-deb $(DEB_OUT)

image: deps
	scripts/build-image $(IMAGE_OUT)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# aios-agent: the two commands an operator or CI needs are `make demo` and `make test`.
# Both install their own prerequisites on a fresh Debian 12 machine (as root).

SHELL := /bin/bash
VERSION := $(shell cat VERSION)
DEB := dist/aios-agent_$(VERSION)_amd64.deb
APT_PACKAGES := libsystemd-dev libcurl4-openssl-dev libssl-dev libyaml-dev systemd-container dpkg-dev lintian util-linux curl openssl ca-certificates python3-cryptography python3-yaml gcc debootstrap
# --no-export-dynamic: the static stdlib's link arguments export every symbol of the executable (19,000 of
# aiosd's, 1.4 MiB of symbol tables the loader reads at each start, resident while it runs); nothing looks
# them up by name (no dlsym of aiosd's or aiosctl's own symbols), so they are not exported.
# -file-prefix-map/-debug-prefix-map: the build tree's path becomes "." in #filePath strings and debug info, so
# the binaries (and the .deb) do not depend on where they were built.
# -function-sections, lld and packaging/aiosd-hot-text.ld: the code aiosd runs to start, idle and answer status is
# placed first, in one run of pages (`make hot-text` writes the script; packaging/README.md, "Code layout").
UNORDERED_RELEASE_FLAGS := -c release --static-swift-stdlib --disable-local-rpath -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now \
	-Xlinker --no-export-dynamic \
	-Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections -Xswiftc -use-ld=lld \
	-Xswiftc -file-prefix-map -Xswiftc $(CURDIR)=. -Xswiftc -debug-prefix-map -Xswiftc $(CURDIR)=. \
	-Xcc -ffile-prefix-map=$(CURDIR)=.
RELEASE_FLAGS := $(UNORDERED_RELEASE_FLAGS) -Xlinker -T -Xlinker $(CURDIR)/packaging/aiosd-hot-text.ld
TESTBED := Tests/testbed/testbed

.PHONY: all deps build test test-unit test-fuzz test-testbed test-standin deb demo bench lint clean check-version mutate fuzz hot-text

all: build

# Installs the Debian packages the build and the testbed need, once (apt-get update first).
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

check-version:
	@grep -q '"$(VERSION)"' Sources/AIOSAPI/BuildInfo.swift || { echo "VERSION ($(VERSION)) and Sources/AIOSAPI/BuildInfo.swift differ" >&2; exit 1; }

build: deps
	swift build

# Unit and integration tests (the in-process server and the real binaries), then the testbed tests.
test: test-unit test-fuzz test-standin test-testbed

test-unit: deps
	swift build --build-tests
	# In parallel: nothing blocks the cooperative pool, and no test assumes an idle machine (TestDeadline.answer).
	swift test --skip-build --parallel

deb: deps check-version
	swift build $(RELEASE_FLAGS)
	packaging/build-deb --version $(VERSION) --bindir $$(swift build $(RELEASE_FLAGS) --show-bin-path) --out dist

test-testbed: deb
	Tests/testbed/e2e/run-all $(DEB)
	Tests/testbed/libcurl-floor/check.sh $(DEB)
	Tests/testbed/k3s/fidelity.sh
	Tests/testbed/azure/fidelity.sh
	Tests/testbed/aio/check.sh

# The K3s stand-in's own tests (Tests/testbed/k3s/standin/tests, seconds). pytest from PyPI into a directory of its
# own (as the Azure fidelity test installs the Azure SDKs), run by Debian's python3 (python3-yaml, as in the testbed).
PYTEST_DIR ?= .build-pytest
test-standin:
	@[ -d $(PYTEST_DIR)/pytest ] || pip3 install -q --disable-pip-version-check --no-warn-script-location --target $(PYTEST_DIR) pytest
	PYTHONPATH=$(PYTEST_DIR) /usr/bin/python3 -m pytest -q -p no:cacheprovider Tests/testbed/k3s/standin/tests

# In `make test`: every fuzz target briefly (3 s each), so a parser that crashes on its seeds or soon after fails CI.
test-fuzz:
	$(MAKE) fuzz FUZZ_SECONDS=3

# libFuzzer over every parser of untrusted input (Tests/fuzz): one binary, AIOS_FUZZ_TARGET picks the parser.
# FUZZ_SECONDS per target (default 30); the corpus grows in .build-fuzz/corpus. A crash stops with its input saved.
FUZZ_TARGETS := yaml config secretDefinition k3s spc kubeconfig azureJSON pem pkcs12 api http
FUZZ_SECONDS ?= 30
FUZZ_FLAGS := -c debug --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
fuzz: deps
	AIOS_FUZZ=1 swift build $(FUZZ_FLAGS) --product aios-fuzz
	@bin=$$(AIOS_FUZZ=1 swift build $(FUZZ_FLAGS) --show-bin-path)/aios-fuzz; \
	for target in $(FUZZ_TARGETS); do \
		mkdir -p .build-fuzz/corpus/$$target .build-fuzz/findings/$$target; \
		echo "fuzz: $$target ($(FUZZ_SECONDS)s)"; \
		AIOS_FUZZ_TARGET=$$target $$bin -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=.build-fuzz/findings/$$target/ .build-fuzz/corpus/$$target Tests/fuzz/seeds/$$target 2>&1 \
			| grep -E '^(Done|#[0-9]+ +DONE|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)' ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# Rewrites packaging/aiosd-hot-text.ld from callgrind profiles of the release aiosd (valgrind from Debian): after
# changes to what aiosd does when it starts, idles or syncs. The profiles run an aiosd linked without the script
# (valgrind names only functions inside `.text`) and with a link map, which they are read against: one on this host
# (start, idle, status), one as aiosd.service in a testbed container (root; a sync of 50 definitions); then
# `make deb` relinks.
hot-text: deb
	@command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
	bindir=$$(swift build $(RELEASE_FLAGS) --show-bin-path); rm -f $$bindir/aiosd $$bindir/aiosd.map; \
	swift build $(UNORDERED_RELEASE_FLAGS) -Xlinker -Map=$$bindir/aiosd.map --product aiosd && packaging/hot-text --bindir $$bindir --deb $(DEB); \
	status=$$?; rm -f $$bindir/aiosd; exit $$status
	$(MAKE) deb

demo: deb
	Tests/testbed/demo $(DEB)

# Not part of `make test`. First part: start, status and idle budgets (its own release build); second part: secret
# sync of 1,000 and of 10,000 secrets, the .deb in a testbed container against the obvious Python script, Key Vault's
# service limit enforced (Tests/bench/README.md); last: dist/bench.json's summary from the parts.
bench: deb
	Tests/bench/run
	AZSDK_DIR=/var/tmp/aios-bench-azsdk Tests/bench/sync/run --deb $(DEB) --count 1000 --out dist/bench-sync-1000.json
	AZSDK_DIR=/var/tmp/aios-bench-azsdk Tests/bench/sync/run --deb $(DEB) --count 10000 --cycles 100 --out dist/bench-sync-10000.json
	Tests/bench/summary dist/bench.json --host dist/bench-host.json --sync 1000=dist/bench-sync-1000.json --sync 10000=dist/bench-sync-10000.json

# Plants each bug of Tests/mutate/mutations in a scratch copy and runs the Swift suite against it; every one must be
# caught. MUTATE_FLAGS: --quick (only the suites each mutation names), --only NAME, --e2e (the scenario too).
mutate: deps
	Tests/mutate/run $(MUTATE_FLAGS)

lint: deb
	lintian --fail-on error $(DEB)

clean:
	rm -rf .build dist

# Developer entry points. Each target first installs missing Debian packages (with apt-get
# when run as root, otherwise it prints the command to run), then does its work.

SWIFT ?= swift
PACKAGES := pkg-config libcmark-dev libsqlite3-dev zlib1g-dev publicsuffix
# The interop tests drive real clients and peers: swaks, mbsync (isync), curl, nsd (an
# authoritative DNS server for the resolver), openssl (RSA keys for dkimpy), postfix (a
# receiving MTA for the outgoing queue, started with its own configuration), and from PyPI
# prometheus_client, pyspf, dkimpy with pynacl, authres (Authentication-Results parser) and
# aiosmtpd (scripted receiving servers for the outgoing queue).
TEST_PACKAGES := cmark swaks isync curl nsd openssl postfix microsocks
TEST_PYTHON := prometheus-client pyspf dnspython dkimpy pynacl authres aiosmtpd
BENCH_PACKAGES := cmark hyperfine wrk nginx nsd openssl postfix
BENCH_PYTHON := dkimpy
PORT ?= 8080

.PHONY: all deps test-deps bench-deps build site test check serve bench clean

all: site

# Installs the Debian packages in $(PACKAGES) that are missing.
deps:
	@./scripts/ensure-packages $(PACKAGES)

test-deps:
	@./scripts/ensure-packages $(PACKAGES) $(TEST_PACKAGES)
	@python3 -c "import prometheus_client, spf, dns.resolver, dkim, nacl, authres, aiosmtpd" 2>/dev/null || python3 -m pip install --quiet $(TEST_PYTHON)

bench-deps:
	@./scripts/ensure-packages $(PACKAGES) $(BENCH_PACKAGES)
	@python3 -c "import dkim" 2>/dev/null || python3 -m pip install --quiet $(BENCH_PYTHON)

build: deps
	$(SWIFT) build --product mox
	$(SWIFT) build --product sitegen

# Writes the website to website/html/. sitegen renders the config and command references from
# the definitions it is linked with (MailConfig, MoxCommands), the ones mox is built from.
site: build
	"$$($(SWIFT) build --show-bin-path)/sitegen" build

# Checks every internal link and anchor of the built site.
check: site
	"$$($(SWIFT) build --show-bin-path)/sitegen" check website/html

# Runs every test: unit and integration tests, then builds the site and checks its links.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) build --product mox
	$(SWIFT) build --product sitegen
	$(SWIFT) test --skip-build
	python3 -m unittest discover -s Tests/Interop -v
	$(MAKE) check

# Previews the site on http://127.0.0.1:$(PORT)/, rebuilding and reloading on changes.
serve: build
	"$$($(SWIFT) build --show-bin-path)/sitegen" serve --port $(PORT)

# Benchmarks; results go in BENCHMARKS.md by hand, with the command, machine and date.
bench: bench-deps
	./scripts/bench-site
	./scripts/bench-store
	./scripts/bench-smtp
	./scripts/bench-imap
	./scripts/bench-http
	./scripts/bench-auth
	./scripts/bench-queue

clean:
	rm -rf .build website/html

# The two commands a newcomer needs:
#   make run    the whole simulated office on this machine
#   make test   installs what the tests need (Debian), then vet and race tests

# A Go found on PATH wins; else Debian's default place; else the one
# scripts/test-deps.sh fetched into .tools/.
export PATH := $(PATH):/usr/local/go/bin:$(CURDIR)/.tools/go/bin

VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
CMDS := kioskd queued kioskctl cityd
PLATFORMS := linux/amd64 linux/arm64 linux/arm

.PHONY: run run-city test test-load test-deps build host clean firmware package

## run: build for this machine and start queued + kioskd with configs/demo.yaml
run: host
	@scripts/run-demo.sh

## run-city: a city of three simulated centres shipping to a throwaway
## PostgreSQL under var/city-pg, and cityd's city page (scripts/run-city.sh)
run-city: host
	go build -trimpath -o bin/ ./city/pgtest/pgcluster
	@scripts/run-city.sh

## test: install missing tools (apt-get), then go vet and go test -race.
## CI=1: a test whose tool test-deps installs fails, not skips, without it.
test: test-deps
	go vet ./...
	CI=1 go test -race ./...

## test-load: the Chromium tests 3 times in a row with 2 CPU burners running
## (RUNS=, BURNERS= change that; see scripts/chromium-under-load.sh)
test-load: test-deps
	@scripts/chromium-under-load.sh

test-deps:
	@scripts/test-deps.sh

## build: static binaries for the terminals, under bin/<os>-<arch>/
build:
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		echo "build $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=7 \
			go build -trimpath -ldflags "$(LDFLAGS)" -o bin/$$os-$$arch/ $(addprefix ./cmd/,$(CMDS)) || exit 1; \
	done
	@ls -l bin/*/

## package: Debian packages for amd64, arm64 and armhf (static, as build),
## dist/cherga_<version>_<arch>.deb, by nfpm (tools/nfpm.mod; scripts/package.sh)
package:
	@VERSION="$(VERSION)" scripts/package.sh

## firmware: the ATmega328P reference firmware and its simavr harness, into bin/firmware/
firmware:
	$(MAKE) -C firmware-bridge/firmware OUT=$(CURDIR)/bin/firmware

host:
	go build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/ $(addprefix ./cmd/,$(CMDS))

clean:
	rm -rf bin var dist

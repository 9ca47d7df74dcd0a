# Quarry. `make run` serves the demo catalog; `make test` runs what CI runs.
GO      ?= go
ADDR    ?= 127.0.0.1:8080
DATA    ?= ./quarry-data
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

NPM     ?= npm
# The UI's end-to-end tests drive this browser (never a downloaded one).
CHROMIUM ?= /usr/bin/chromium
E2E      = cd ui && QUARRY_BIN=$(CURDIR)/bin/quarry CHROMIUM=$(CHROMIUM) $(NPM) run --silent e2e

# The module's packages: ./... would also take the Go package an npm
# dependency ships under ui/node_modules.
PKGS     = $(shell $(GO) list ./... | grep -v /node_modules/)

.PHONY: run build ui e2e test check bench bench-scale bench-replicas fuzz generate clean

## run: build (UI included) and serve the demo catalog on http://$(ADDR)
run: build
	./bin/quarry serve --demo --addr $(ADDR) --data $(DATA)

## build: build bin/quarry with the web UI embedded
build: ui
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/quarry ./cmd/quarry

## ui: build the web UI into ui/dist (npm ci first when package-lock.json is newer than node_modules)
ui: ui/node_modules/.package-lock.json
	cd ui && $(NPM) run --silent build

ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && $(NPM) ci --no-audit --no-fund
	@touch $@

## e2e: the UI's end-to-end tests in headless Chromium against quarry serve --demo
e2e: build
	$(E2E)

## test: formatting, vet, every Go test and the UI's end-to-end tests (what CI runs)
test: check build
	$(GO) test -count=1 -timeout 20m $(PKGS)
	$(E2E)

## check: gofmt, go vet, and the UI's lint (ESLint with React's hooks rules) and unit tests (Vitest)
check: ui/node_modules/.package-lock.json
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	cd ui && $(NPM) run --silent check

## bench: run the benchmarks and print their numbers
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m $(PKGS)

## bench-scale: the scale benchmark (issue 24): the real binary, QUARRY_SCALE_N datasets (100k; 1M
## with QUARRY_SCALE_N=1000000), kept in QUARRY_SCALE_DIR between runs; see BenchmarkScale for the rest
bench-scale:
	$(GO) test -run '^$$' -bench '^BenchmarkScale$$' -benchtime 1x -timeout 240m ./cmd/quarry

## bench-replicas: bbolt against PostgreSQL and 1, 2, 3 replicas on one PostgreSQL (issue 25): real servers,
## QUARRY_REPLICA_BENCH_N datasets (5k; the issue's 100k with QUARRY_REPLICA_BENCH_N=100000); see BenchmarkReplicas
bench-replicas:
	$(GO) test -run '^$$' -bench '^BenchmarkReplicas$$' -benchtime 1x -timeout 120m ./cmd/quarry

## fuzz: run each fuzz target for FUZZTIME (new crashers land in the package's testdata/fuzz: commit them with the fix)
FUZZTIME ?= 15s
FUZZ      = $(GO) test -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s
fuzz:
	$(FUZZ) -fuzz '^FuzzParseEvent$$' ./lineage
	$(FUZZ) -fuzz '^FuzzParseBatch$$' ./lineage
	$(FUZZ) -fuzz '^FuzzGraphQL$$' ./graph
	$(FUZZ) -fuzz '^FuzzParse$$' ./crawler/viewsql

## generate: regenerate gqlgen code and the UI's GraphQL types from graph/*.graphqls
generate:
	# gqlgen with what it has no option for (graph/internal/gen says what).
	$(GO) run ./graph/internal/gen
	cd ui && $(NPM) run --silent codegen

clean:
	rm -rf bin
	cd ui && node scripts/clean-dist.mjs

# Quarry. `make run` serves the demo catalog; `make test` runs what CI runs.
GO      ?= go
ADDR    ?= 127.0.0.1:8080
DATA    ?= ./quarry-data
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run build test check bench generate clean

## run: build and serve the demo catalog on http://$(ADDR)
run: build
	./bin/quarry serve --demo --addr $(ADDR) --data $(DATA)

## build: build bin/quarry
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/quarry ./cmd/quarry

## test: formatting, vet and every test (what CI runs)
test: check
	$(GO) test -count=1 -timeout 20m ./...

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: run the benchmarks and print their numbers
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m ./...

## generate: regenerate gqlgen code from graph/*.graphqls
generate:
	$(GO) tool gqlgen generate

clean:
	rm -rf bin

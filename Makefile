# Makefile - builds pipec (the compiler), libpipec-rt.a (the runtime), the example pipelines,
# and runs the tests and benchmarks. `make V=1` shows the commands.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifdef WERROR
WARN    += -Werror
endif
CPPFLAGS += -D_GNU_SOURCE -MMD -MP -I/usr/include/postgresql
# -lzstd -lsnappy: the Parquet writer's page compression (rt_pq_encode.c); -lmicrohttpd: the
# metrics endpoint (rt_metrics.c)
LIBS := -lyaml -lsqlite3 -lpq -lzstd -lsnappy -lmicrohttpd -lgnutls -lcrypt -lm
SAN     ?=
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SAN)

Q := @
ifeq ($(V),1)
Q :=
endif

BUILD := build$(if $(SAN),-san)
BIN   := bin

COMPILER_SRC := $(wildcard compiler/*.c)
COMPILER_LIB_SRC := $(filter-out compiler/main.c,$(COMPILER_SRC))
RUNTIME_SRC  := $(wildcard runtime/*.c)
COMPILER_OBJ := $(COMPILER_SRC:%.c=$(BUILD)/%.o)
COMPILER_LIB_OBJ := $(COMPILER_LIB_SRC:%.c=$(BUILD)/%.o)
RUNTIME_OBJ  := $(RUNTIME_SRC:%.c=$(BUILD)/%.o)
RUNTIME_LIB  := $(BUILD)/libpipec-rt.a
PIPEC        := $(BIN)/pipec$(if $(SAN),-san)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

PIPELINE_SPECS := $(wildcard pipelines/*.yaml)

.PHONY: all deps test check san-check pipelines bench demo clean unit golden-update docs fuzz fuzz-smoke faults
all: $(PIPEC) $(RUNTIME_LIB)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Iruntime -c $< -o $@

$(RUNTIME_LIB): $(RUNTIME_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(PIPEC): $(COMPILER_OBJ) $(RUNTIME_LIB)
	@mkdir -p $(BIN)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(COMPILER_OBJ) $(RUNTIME_LIB) $(LIBS)

# Unit tests link the compiler's modules (not main.c) and the runtime.
$(BUILD)/tests/%: tests/unit/%.c $(COMPILER_LIB_OBJ) $(RUNTIME_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Icompiler -Iruntime -Itests/unit -o $@ $< $(COMPILER_LIB_OBJ) $(RUNTIME_LIB) $(LIBS)

unit: $(UNIT_BIN)

# Every spec in pipelines/ into bin/<name>; pipec writes a .d file so a change of the spec, a
# template or the runtime rebuilds the binary.
PIPELINE_BINS := $(PIPELINE_SPECS:pipelines/%.yaml=$(BIN)/%)
pipelines: $(PIPELINE_BINS)
$(BIN)/%: pipelines/%.yaml $(PIPEC) $(RUNTIME_LIB)
	@$(if $(Q),echo "  PIPEC   $<")
	$(Q)$(PIPEC) build $< -o $@ --gen-dir generated/$* --depfile $(BUILD)/pipelines/$*.d
-include $(wildcard $(BUILD)/pipelines/*.d)

deps:
	$(Q)sh tests/deps.sh

# `make test` runs the whole suite twice: as built, then with AddressSanitizer and
# UndefinedBehaviorSanitizer (compiler, runtime, unit tests and every pipeline binary), then
# every fuzz target for 10 seconds. `make check` is the first half alone, for a quick loop.
test: check san-check fuzz-smoke

check: deps all unit pipelines
	$(Q)/usr/bin/python3 tests/run.py

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
san-check: deps
	$(Q)$(MAKE) --no-print-directory SAN="$(SAN_FLAGS)" CFLAGS="-O1 -g" all unit
	$(Q)ASAN_OPTIONS=detect_leaks=1 /usr/bin/python3 tests/run.py --san

# The fault suite (tests/suite_faults.py, not part of `make test`): SIGKILL at random points,
# servers stopped mid-run, full disks, SIGTERM in each phase, then exact counts. FAULT_SEED=N
# repeats a run (each run prints its seed), FAULT_ROUNDS=N sets the kills per test (default 6).
faults: deps all
	$(Q)/usr/bin/python3 tests/run.py --faults

bench: deps all pipelines
	$(Q)/usr/bin/python3 bench/run.py

# The first run on a fresh machine: no servers, a generated sample, seconds.
demo: deps all $(BIN)/quickstart
	@rm -rf out/quickstart.db* out/quickstart.dead.jsonl && mkdir -p out
	@/usr/bin/python3 pipelines/data/generate_events.py -o out/events.csv
	@echo "== pipec demo: pipelines/quickstart.yaml on out/events.csv ($$(($$(wc -l < out/events.csv) - 1)) shop events, a few of them bad)"
	@INPUT=out/events.csv OUT=out ./$(BIN)/quickstart
	@echo "== revenue per minute and event type: out/quickstart.db, table revenue_per_minute"
	@echo "   sqlite3 out/quickstart.db 'select * from revenue_per_minute limit 5'"
	@echo "== rejected rows: out/quickstart.dead.jsonl ($$(wc -l < out/quickstart.dead.jsonl) rows, each with its position, reason and detail)"
	@echo "== the plan: ./$(BIN)/pipec explain pipelines/quickstart.yaml"

# Splices the key reference printed by `pipec docs` into docs/spec.md; writes the JSON Schema
# of specs for editors (`pipec schema`).
docs: all
	$(Q)/usr/bin/python3 docs/splice.py
	$(Q)$(PIPEC) schema -o docs/pipec.schema.json

# libFuzzer targets (tests/fuzz/fuzz_*.c, clang with ASan and UBSan), each run SECONDS seconds
# from its seed corpus (tests/fuzz/corpus/NAME, new inputs go to build/fuzz/corpus/NAME); a crash
# fails the run and leaves its input in build/fuzz/. A crash's input, once fixed, is added to the
# seed corpus, so every later run (the smoke run of `make test` too) replays it first.
# `make fuzz FUZZ_TARGETS="parquet gen_csv_events"` runs only those.
SECONDS ?= 60
# gen_NAME: the program `pipec gen` makes of tests/fuzz/specs/NAME.yaml, driven by tests/fuzz/gen/harness.c
FUZZ_GEN_SPECS := $(wildcard tests/fuzz/specs/*.yaml)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)) \
                $(patsubst tests/fuzz/specs/%.yaml,gen_%,$(FUZZ_GEN_SPECS))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link -D_GNU_SOURCE -I/usr/include/postgresql -iquote compiler -iquote runtime
# the compiler (without main) and the runtime, compiled once for every target
FUZZ_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(COMPILER_LIB_SRC) $(RUNTIME_SRC))
.SECONDARY: $(FUZZ_OBJ)
build/fuzz/obj/%.o: %.c $(wildcard compiler/*.h runtime/*.h)
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) -c $< -o $@
build/fuzz/%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LIBS) -lrdkafka -lcurl
# kept between runs (make would delete them as intermediates of the pattern rules)
.SECONDARY: $(FUZZ_OBJ) $(FUZZ_GEN_SPECS:tests/fuzz/specs/%.yaml=build/fuzz/gen/%.c)
build/fuzz/gen/%.c: tests/fuzz/specs/%.yaml $(PIPEC)
	@rm -rf build/fuzz/gen/$* && mkdir -p build/fuzz/gen
	$(Q)$(PIPEC) gen $< -o build/fuzz/gen/$* && cp build/fuzz/gen/$*/*.c $@
build/fuzz/gen_%: build/fuzz/gen/%.c tests/fuzz/gen/harness.c $(FUZZ_OBJ)
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -Iruntime -DGEN_C='"$(CURDIR)/$<"' -Dmain=pipeline_main \
	    -Wno-unused-function -o $@ tests/fuzz/gen/harness.c $(FUZZ_OBJ) $(LIBS) -lrdkafka -lcurl
fuzz: deps
	$(Q)$(MAKE) --no-print-directory -j$$(nproc) $(FUZZ_TARGETS:%=build/fuzz/%)
	$(Q)for t in $(FUZZ_TARGETS); do \
	    mkdir -p build/fuzz/corpus/$$t; \
	    echo "fuzz: $$t for $(SECONDS) s"; \
	    (cd build/fuzz && ./$$t -max_total_time=$(SECONDS) -max_len=65536 -print_final_stats=1 \
	        corpus/$$t ../../tests/fuzz/corpus/$$t 2>$$t.log) || { tail -40 build/fuzz/$$t.log; exit 1; }; \
	    grep -E "^stat::number_of_executed_units" build/fuzz/$$t.log; \
	done
# The short run `make test` ends with.
fuzz-smoke:
	$(Q)$(MAKE) --no-print-directory fuzz SECONDS=10

golden-update: all
	$(Q)/usr/bin/python3 tests/run.py --update-golden

clean:
	rm -rf build build-san bin generated/*/

-include $(COMPILER_OBJ:.o=.d) $(RUNTIME_OBJ:.o=.d)

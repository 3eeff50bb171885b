# Sekisho - single build entry point.
#
#   make            build every binary, unit test and fuzz replay runner (build/)
#   make SAN=1      the same with ASan+UBSan into build-san/
#   make check      the whole test suite (tests/run.sh)
#   make lint       layer rule, clang-format, cppcheck
#   make fuzz       libFuzzer binaries (clang) into build-fuzz/
#   make format     clang-format -i every source file
#
# Sources are discovered by wildcard so that adding a module or a test is
# adding a file: src/{lib,proto,core}/*.c form libsekisho.a, every
# src/proxy/*.c and src/proxy/*/*.c forms libsekisho-proxy.a, which with
# src/master/*.c (main() is in src/master/main.c) forms `sekisho`,
# src/scand/*.c form `sekisho-scand` (the only binary linked with
# libclamav), every src/tools/<name>/*.c forms bin <name>, every
# tests/unit/*/test_*.c is one cmocka binary (those in tests/unit/proxy/
# also link libsekisho-proxy.a) and every fuzz/fuzz_*.c one replay runner
# and one fuzzer.

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
B       := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT     := -O1
else
B       := build
SANFLAGS :=
OPT     := -O2
endif

CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wvla \
           -Wformat=2 -Wno-format-nonliteral -fstack-protector-strong -Isrc \
           -include dev/banned.h $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS)
LIBS    := -lpthread -lcares -lcrypto -lz -lbrotlidec -lzstd -llmdb -lpam
CLAMAV_CFLAGS := $(shell pkg-config --cflags libclamav 2>/dev/null)
CLAMAV_LIBS   := $(shell pkg-config --libs libclamav 2>/dev/null || echo -lclamav)

LIB_SRCS   := $(wildcard src/lib/*.c src/proto/*.c src/core/*.c)
PROXY_SRCS := $(wildcard src/proxy/*.c src/proxy/*/*.c)
MASTER_SRCS := $(wildcard src/master/*.c)
SCAND_SRCS := $(wildcard src/scand/*.c)
TOOLS      := $(notdir $(wildcard src/tools/*))
UNIT_SRCS  := $(wildcard tests/unit/*/test_*.c)
FUZZ_SRCS  := $(wildcard fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIB_A      := $(B)/libsekisho.a
PROXY_A    := $(B)/libsekisho-proxy.a
BINS       := $(B)/bin/sekisho $(B)/bin/sekisho-scand $(addprefix $(B)/bin/,$(TOOLS))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
REPLAY_BINS := $(patsubst fuzz/%.c,$(B)/fuzz/replay_%,$(FUZZ_SRCS))

.PHONY: all all-bins check lint fuzz format clean install
all: $(BINS) $(UNIT_BINS) $(REPLAY_BINS)
all-bins: $(BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(if $(findstring src/scand/,$<),$(CLAMAV_CFLAGS)) -MMD -MP -c $< -o $@

$(LIB_A): $(call obj,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(PROXY_A): $(call obj,$(PROXY_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/bin/sekisho: $(call obj,$(MASTER_SRCS)) $(PROXY_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/bin/sekisho-scand: $(call obj,$(SCAND_SRCS)) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CLAMAV_LIBS) $(LIBS)

.SECONDEXPANSION:
$(B)/bin/%: $$(call obj,$$(wildcard src/tools/%/*.c)) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Unit tests link the library and cmocka; libwrap is linked for the
# differential hosts.allow test (our matcher against hosts_ctl()). Those of
# tests/unit/proxy/ test the workers' code and link it first (a more
# specific pattern, so make prefers this rule for them).
$(B)/tests/proxy/%: $(B)/obj/tests/unit/proxy/%.o $(PROXY_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LIBS)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka -lwrap $(LIBS)

$(B)/fuzz/replay_%: $(B)/obj/fuzz/%.o $(B)/obj/fuzz/replay.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# libFuzzer builds: clang only, separate tree.
FUZZ_B := build-fuzz
fuzz:
	$(MAKE) B=$(FUZZ_B) CC=clang SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
	    $(patsubst fuzz/%.c,$(FUZZ_B)/fuzz/%,$(FUZZ_SRCS))
$(FUZZ_B)/fuzz/fuzz_%: $(FUZZ_B)/obj/fuzz/fuzz_%.o $(FUZZ_B)/libsekisho.a
	@mkdir -p $(dir $@)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

check: all
	tests/run.sh

lint:
	dev/lint.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz

# make install prefix=/opt/sekisho [suffix=X]: the layout of DESIGN.md. An
# existing conf/sekisho.ini or hosts.allow is kept (the new one is written
# next to it as .new), so an update never loses an administrator's edits.
# suffix (fewer than two characters, INST-2) goes into every program and rc
# script name (sekisho2, sekisho-scand2, rc.sekisho2_http ...), so two
# installations on one host are told apart in ps and in /etc/init.d; the rc
# scripts are written from packaging/rc/*.in with the service and the
# suffix filled in.
prefix ?= /opt/sekisho
suffix ?=
install: $(BINS)
	@case "$(suffix)" in "" | [A-Za-z0-9]) ;; *) \
	    echo "make install: suffix='$(suffix)': one letter or digit at most (INST-2)" >&2; \
	    exit 1 ;; esac
	install -d -m 755 $(prefix) $(prefix)/conf $(prefix)/databases $(prefix)/misc \
	    $(prefix)/run $(prefix)/log $(prefix)/doc
	install -m 755 $(B)/bin/sekisho $(prefix)/sekisho$(suffix)
	install -m 755 $(B)/bin/sekisho-scand $(prefix)/sekisho-scand$(suffix)
	install -m 755 $(B)/bin/sekisho-scan $(prefix)/sekisho-scan$(suffix)
	install -m 755 $(B)/bin/logconv $(prefix)/misc/logconv.bin
	install -m 755 misc/logconv $(prefix)/misc/logconv
	for s in http smtp pop ftp; do \
	    sed -e "s/@SVC@/$$s/g" -e "s/@SUFFIX@/$(suffix)/g" packaging/rc/rc.sekisho_service.in \
	        >$(prefix)/rc.sekisho$(suffix)_$$s && chmod 755 $(prefix)/rc.sekisho$(suffix)_$$s \
	        || exit 1; done
	sed -e "s/@SUFFIX@/$(suffix)/g" packaging/rc/rc.sekisho_scand.in \
	    >$(prefix)/rc.sekisho$(suffix)_scand
	chmod 755 $(prefix)/rc.sekisho$(suffix)_scand
	install -m 644 databases/* $(prefix)/databases/
	install -m 644 conf/template_* $(prefix)/conf/
	for f in sekisho.ini hosts.allow; do \
	    if [ -f $(prefix)/conf/$$f ]; then install -m 644 conf/$$f $(prefix)/conf/$$f.new; \
	    else install -m 644 conf/$$f $(prefix)/conf/$$f; fi; done
	cp -r docs/. $(prefix)/doc/ 2>/dev/null || true

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

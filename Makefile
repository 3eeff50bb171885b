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
# src/clam/*.c (the libclamav calls sekisho-scand and dbupdate share) form
# libsekisho-clam.a, src/scand/*.c with it form `sekisho-scand`, every
# src/tools/<name>/*.c forms bin <name> (dbupdate also links
# libsekisho-clam.a, libclamav and libfreshclam: with sekisho-scand the only
# binaries linked with libclamav), every tests/unit/*/test_*.c is one cmocka
# binary (those in tests/unit/proxy/ also link libsekisho-proxy.a, those in
# tests/unit/clam/ libsekisho-clam.a and libclamav) and every fuzz/fuzz_*.c
# one replay runner and one fuzzer. src/pam/*.c with the library files it
# needs form the PAM module $(B)/lib/pam_sekisho_userdb.so.

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
LIBS    := -lpthread -lcares -lcrypto -lz -lbrotlidec -lzstd -llmdb -lpam -lcrypt
CLAMAV_CFLAGS := $(shell pkg-config --cflags libclamav 2>/dev/null)
CLAMAV_LIBS   := $(shell pkg-config --libs libclamav 2>/dev/null || echo -lclamav)

LIB_SRCS   := $(wildcard src/lib/*.c src/proto/*.c src/core/*.c)
PROXY_SRCS := $(wildcard src/proxy/*.c src/proxy/*/*.c)
MASTER_SRCS := $(wildcard src/master/*.c)
SCAND_SRCS := $(wildcard src/scand/*.c)
CLAM_SRCS  := $(wildcard src/clam/*.c)
DBUPDATE_SRCS := $(wildcard src/tools/dbupdate/*.c)
ADMIN_SRCS := $(filter-out src/admin/admin_main.c,$(wildcard src/admin/*.c))
TOOLS      := $(notdir $(wildcard src/tools/*))
UNIT_SRCS  := $(wildcard tests/unit/*/test_*.c)
FUZZ_SRCS  := $(wildcard fuzz/fuzz_*.c)
# Test programs the integration tests drive (tests/tools/<name>.c ->
# $(B)/tests/<name>), linked like the proxy's unit tests.
TEST_TOOL_SRCS := $(wildcard tests/tools/*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIB_A      := $(B)/libsekisho.a
PROXY_A    := $(B)/libsekisho-proxy.a
CLAM_A     := $(B)/libsekisho-clam.a
ADMIN_A    := $(B)/libsekisho-admin.a
BINS       := $(B)/bin/sekisho $(B)/bin/sekisho-scand $(B)/bin/sekisho-admin \
              $(addprefix $(B)/bin/,$(TOOLS))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
REPLAY_BINS := $(patsubst fuzz/%.c,$(B)/fuzz/replay_%,$(FUZZ_SRCS))
TEST_TOOLS := $(patsubst tests/tools/%.c,$(B)/tests/%,$(TEST_TOOL_SRCS))

# The PAM module: its own source and the library files it calls, built
# position-independent into $(B)/obj-pic/ (the objects of libsekisho.a are
# PIE, not PIC). It is loaded into PAM applications that are not built with
# sanitizers (pamtester, sshd ...), and an ASan-instrumented library cannot
# be loaded into those, so it is built without SANFLAGS in build-san too
# (inside the ASan build of sekisho it is simply uninstrumented code; the
# same library code is tested under ASan by tests/unit/core/test_userdb.c).
# Only the pam_sm_* functions are exported (-fvisibility=hidden).
PAM_SRCS     := $(wildcard src/pam/*.c) src/core/userdb.c src/proto/userdb_parse.c \
                src/proto/user_target.c src/lib/str.c src/lib/lmdb_open.c
PAM_MODULE   := $(B)/lib/pam_sekisho_userdb.so
PIC_CFLAGS   := $(filter-out $(SANFLAGS),$(CFLAGS)) -fPIC -fvisibility=hidden

.PHONY: all all-bins check lint fuzz format clean install show-dbversion
all: $(BINS) $(PAM_MODULE) $(UNIT_BINS) $(REPLAY_BINS) $(TEST_TOOLS)
all-bins: $(BINS) $(PAM_MODULE) $(TEST_TOOLS)

# The code that includes <clamav.h> (dev/check-layers.sh) or libfreshclam.h.
CLAMAV_DIRS := src/scand/ src/clam/ src/tools/dbupdate/ tests/unit/clam/

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(if $(filter $(addsuffix %,$(CLAMAV_DIRS)),$<),$(CLAMAV_CFLAGS)) -MMD -MP -c $< -o $@

$(B)/obj-pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(PIC_CFLAGS) -MMD -MP -c $< -o $@

$(PAM_MODULE): $(patsubst %.c,$(B)/obj-pic/%.o,$(PAM_SRCS))
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-z,defs -o $@ $^ -lpam -llmdb -lcrypt

$(LIB_A): $(call obj,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(PROXY_A): $(call obj,$(PROXY_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(CLAM_A): $(call obj,$(CLAM_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/bin/sekisho: $(call obj,$(MASTER_SRCS)) $(PROXY_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/bin/sekisho-scand: $(call obj,$(SCAND_SRCS)) $(CLAM_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CLAMAV_LIBS) $(LIBS)

# The web console: its pages in libsekisho-admin.a (the unit tests of
# tests/unit/admin/ link them), main() apart; libmicrohttpd only here.
$(ADMIN_A): $(call obj,$(ADMIN_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/bin/sekisho-admin: $(call obj,src/admin/admin_main.c) $(ADMIN_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lmicrohttpd $(LIBS) $(ZIP_LIBS)

# dbupdate: an explicit rule, so it wins over the generic tools rule below.
$(B)/bin/dbupdate: $(call obj,$(DBUPDATE_SRCS)) $(CLAM_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CLAMAV_LIBS) -lfreshclam $(LIBS)

# sekisho-quarantine: core/quarantine_zip writes its zips with libzip (the
# unit tests of the quarantine link it too).
ZIP_LIBS := -lzip
$(B)/bin/sekisho-quarantine: $(call obj,$(wildcard src/tools/sekisho-quarantine/*.c)) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(ZIP_LIBS)

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

# Those of tests/unit/clam/ test the libclamav layer against libclamav.
$(B)/tests/clam/%: $(B)/obj/tests/unit/clam/%.o $(CLAM_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(CLAMAV_LIBS) $(LIBS)

# Those of tests/unit/admin/ test the console's code.
$(B)/tests/admin/%: $(B)/obj/tests/unit/admin/%.o $(ADMIN_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka -lmicrohttpd $(LIBS) $(ZIP_LIBS)

$(TEST_TOOLS): $(B)/tests/%: $(B)/obj/tests/tools/%.o $(PROXY_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/core/test_quarantine_%: $(B)/obj/tests/unit/core/test_quarantine_%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LIBS) $(ZIP_LIBS)

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
#
# PAM (AUTH-1, AUTH-2): the module goes to lib/security/, create_userdb
# next to the other programs (and conf/pam/create_userdb, where AUTH-2 runs
# it); conf/pam/userdb.txt (passwords: 0600) is installed only when there
# is none, and userdb.db built from it only when there is none, 0640 and in
# the group of run_user (the proxies read it after dropping privileges).
# conf/pam/sekisho_<svc>.pam are written from conf/pam/*.pam with the paths
# filled in; they are the product's files and rewritten on every update
# (AUTH-1: a site customises a copy in /etc/pam.d), a differing old one is
# kept as .old. $(pamdir)/sekisho<suffix>_<svc> is made a symlink to each,
# except where a real file is: the administrator's copy, left alone with a
# warning. Tests set pamdir to a directory of their own.
#
# The web console (issue 16): sekisho-admin and rc.sekisho<suffix>_admin;
# conf/admin.conf (0600) written on the first install with adminport= (9012)
# and lang= (INST-2: en, or ja when LANG starts with ja or the time zone is
# JST); conf/sekisho.htdigest (the default account admin/admin, changed at
# the first login), 0640 in the group of run_user. Both kept when present.
#
# Definition updates (issue 15): dbupdate and conf/dbupdate.conf (0600: it
# may hold a proxy password; kept when present), a Makefile in the prefix
# (show-dbversion, update, autoupdate-on/-off/-status), the systemd units
# sekisho<suffix>-dbupdate.{service,timer} in systemdunitdir, and with
# autoupdate=yes (the default) hourly updates switched on: the timer when
# systemd runs, else a line in crondir (make autoupdate-on in the prefix).
prefix ?= /opt/sekisho
suffix ?=
adminport ?=
lang ?=
pamdir ?= /etc/pam.d
autoupdate ?= yes
systemdunitdir ?= /etc/systemd/system
crondir ?= /etc/cron.d
PAM_INST := $(prefix)/lib/security/pam_sekisho_userdb$(suffix).so
install: $(BINS) $(PAM_MODULE)
	@case "$(suffix)" in "" | [A-Za-z0-9]) ;; *) \
	    echo "make install: suffix='$(suffix)': one letter or digit at most (INST-2)" >&2; \
	    exit 1 ;; esac
	install -d -m 755 $(prefix) $(prefix)/conf $(prefix)/databases $(prefix)/misc \
	    $(prefix)/run $(prefix)/log $(prefix)/doc
	install -m 755 $(B)/bin/sekisho $(prefix)/sekisho$(suffix)
	install -m 755 $(B)/bin/sekisho-scand $(prefix)/sekisho-scand$(suffix)
	install -m 755 $(B)/bin/sekisho-scan $(prefix)/sekisho-scan$(suffix)
	install -m 755 $(B)/bin/sekisho-quarantine $(prefix)/sekisho-quarantine$(suffix)
	install -m 755 $(B)/bin/logconv $(prefix)/misc/logconv.bin
	install -m 755 misc/logconv $(prefix)/misc/logconv
	install -m 755 misc/rc.transparent $(prefix)/misc/rc.transparent
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
	install -d -m 755 $(prefix)/conf/spam
	for f in files.txt custom.txt; do [ -e $(prefix)/conf/spam/$$f ] || \
	    install -m 644 conf/spam/$$f $(prefix)/conf/spam/$$f || exit 1; done
	install -d -m 755 $(prefix)/lib $(prefix)/lib/security $(prefix)/conf/pam $(pamdir)
	install -m 644 $(PAM_MODULE) $(PAM_INST)
	install -m 755 $(B)/bin/create_userdb $(prefix)/create_userdb$(suffix)
	ln -sfn ../../create_userdb$(suffix) $(prefix)/conf/pam/create_userdb
	[ -e $(prefix)/conf/pam/userdb.txt ] || \
	    install -m 600 conf/pam/userdb.txt $(prefix)/conf/pam/userdb.txt
	@db=$(prefix)/conf/pam/userdb.db; [ -e $$db ] && exit 0; \
	    $(prefix)/create_userdb$(suffix) $$db $(prefix)/conf/pam/userdb.txt || exit 1; \
	    u=$$(sed -n 's/^[[:space:]]*run_user[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/\1/p' \
	        $(prefix)/conf/sekisho.ini | head -n 1); \
	    g=$$(id -gn "$${u:-nobody}" 2>/dev/null); \
	    if [ -n "$$g" ] && chgrp "$$g" $$db; then chmod 640 $$db; else \
	        echo "make install: warning: $$db: cannot give it the group of run_user" \
	            "'$${u:-nobody}': make it readable by that user (docs/internals/userdb.md)" >&2; fi
	@for s in http smtp pop ftp; do \
	    f=$(prefix)/conf/pam/sekisho_$$s.pam; \
	    sed -e "s|@PAM_MODULE@|$(PAM_INST)|g" -e "s|@USERDB@|$(prefix)/conf/pam/userdb.db|g" \
	        conf/pam/sekisho_$$s.pam >$$f.tmp || exit 1; \
	    if [ -f $$f ] && ! cmp -s $$f $$f.tmp; then mv -f $$f $$f.old; \
	        echo "make install: $$f rewritten (AUTH-1); the old one is $$f.old" >&2; fi; \
	    mv -f $$f.tmp $$f && chmod 644 $$f || exit 1; \
	    l=$(pamdir)/sekisho$(suffix)_$$s; \
	    if [ -e $$l ] && [ ! -L $$l ]; then \
	        echo "make install: warning: $$l is a file, not a link: left alone (AUTH-1)" >&2; \
	    else ln -sfn $$f $$l || exit 1; fi; done
	install -m 755 $(B)/bin/sekisho-admin $(prefix)/sekisho-admin$(suffix)
	sed -e "s/@SUFFIX@/$(suffix)/g" packaging/rc/rc.sekisho_admin.in \
	    >$(prefix)/rc.sekisho$(suffix)_admin
	chmod 755 $(prefix)/rc.sekisho$(suffix)_admin
	install -d -m 755 $(prefix)/log/admin
	@f=$(prefix)/conf/admin.conf; [ -e $$f ] && exit 0; \
	    l='$(lang)'; if [ -z "$$l" ]; then l=en; \
	        case "$${LANG:-}" in ja*) l=ja ;; esac; \
	        case "$$(date +%Z)" in JST) l=ja ;; esac; fi; \
	    case "$$l" in en | ja) ;; *) echo "make install: lang='$$l': en or ja (INST-2)" >&2; \
	        exit 1 ;; esac; \
	    p='$(adminport)'; case "$$p" in "" | *[!0-9]*) p=9012 ;; esac; \
	    sed -e "s/^#* *adminport=.*/adminport=$$p/" -e "s/^#* *lang=.*/lang=$$l/" \
	        conf/admin.conf >$$f.tmp && chmod 600 $$f.tmp && mv -f $$f.tmp $$f
	@f=$(prefix)/conf/sekisho.htdigest; [ -e $$f ] && exit 0; \
	    install -m 640 conf/sekisho.htdigest $$f || exit 1; \
	    u=$$(sed -n 's/^[[:space:]]*run_user[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/\1/p' \
	        $(prefix)/conf/sekisho.ini | head -n 1); \
	    g=$$(id -gn "$${u:-nobody}" 2>/dev/null); \
	    if [ -z "$$g" ] || ! chgrp "$$g" $$f; then \
	        echo "make install: warning: $$f: cannot give it the group of run_user" \
	            "'$${u:-nobody}': the console cannot check logins" >&2; fi
	install -m 755 $(B)/bin/dbupdate $(prefix)/dbupdate$(suffix)
	[ -e $(prefix)/conf/dbupdate.conf ] || install -m 600 conf/dbupdate.conf $(prefix)/conf/dbupdate.conf
	sed -e "s|@PREFIX@|$(prefix)|g" -e "s/@SUFFIX@/$(suffix)/g" \
	    -e "s|@SYSTEMDUNITDIR@|$(systemdunitdir)|g" -e "s|@CRONDIR@|$(crondir)|g" \
	    packaging/Makefile.prefix.in >$(prefix)/Makefile
	install -d -m 755 $(systemdunitdir)
	for u in service timer; do \
	    sed -e "s|@PREFIX@|$(prefix)|g" -e "s/@SUFFIX@/$(suffix)/g" \
	        packaging/systemd/sekisho-dbupdate.$$u.in \
	        >$(systemdunitdir)/sekisho$(suffix)-dbupdate.$$u || exit 1; done
	@case "$(autoupdate)" in \
	    yes) $(MAKE) --no-print-directory -C $(prefix) autoupdate-on \
	        systemdunitdir=$(systemdunitdir) crondir=$(crondir) ;; \
	    no) ;; \
	    *) echo "make install: autoupdate='$(autoupdate)': yes or no" >&2; exit 1 ;; esac
	cp -r docs/. $(prefix)/doc/ 2>/dev/null || true

# make show-dbversion: the definitions of this tree's databases/ (CLI-3).
show-dbversion: $(B)/bin/dbupdate
	@$(B)/bin/dbupdate --show-version -f conf/sekisho.ini

-include $(shell find $(B)/obj $(B)/obj-pic -name '*.d' 2>/dev/null)

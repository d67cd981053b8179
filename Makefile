# Responsables: build, tests, demo. GNU make; libraries through pkg-config.
#
#   make              build everything into build/
#   make check        unit and integration tests, then again under ASan/UBSan,
#                     then the fuzz targets over their committed corpus
#   make fuzz         fuzz each target for FUZZ_TIME seconds (clang, libFuzzer)
#   make demo         a private database, the daemons and ecadm on a demo school
#   make serve/stop   the same stack in the background, for scripts (var/env)
#   make bench        the benchmarks of DESIGN.md §10 (BENCH=name to pick)
#   make stress       staff traffic beside abusive clients (STRESS_TIME=s,
#                     STRESS_DEMO=1 against the make serve stack)
#   make install      PREFIX=/usr/local DESTDIR=

VERSION		 = 0.1.0
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= /etc
DESTDIR		?=
SANITIZE	?=
STRESS_TIME	?= 300
STRESS_DEMO	?=

ifeq ($(SANITIZE),)
BUILD		?= build
else
BUILD		?= build-san
endif

CC		?= cc
PKG_CONFIG	?= pkg-config
CFLAGS		?= -O2 -g
WARNINGS	 = -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
		   -Wstrict-prototypes -Wmissing-prototypes \
		   -Wmissing-declarations -Wold-style-definition \
		   -Wformat=2 -Wformat-security -Wwrite-strings -Wundef \
		   -Wvla -Wimplicit-fallthrough -Wcast-align \
		   -Wredundant-decls -Wnested-externs -Wnull-dereference \
		   -Wno-format-nonliteral
CPPFLAGS	+= -D_GNU_SOURCE -DECADM_VERSION='"$(VERSION)"' -Icommon
ALL_CFLAGS	 = -std=gnu11 -pthread $(WARNINGS) $(CFLAGS) -MMD -MP
ifneq ($(SANITIZE),)
ALL_CFLAGS	+= -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
		   -fno-sanitize-recover=all
LDFLAGS		+= -fsanitize=$(SANITIZE)
else
# Release hardening: bounds-checked libc calls, stack canaries, a position
# independent executable and a read-only GOT resolved at start. Fortify
# needs the optimizer (glibc warns, -Werror fails), so only with one.
ALL_CFLAGS	+= -fstack-protector-strong -fPIE
ifneq ($(filter -O -O1 -O2 -O3 -Os -Og -Ofast -Oz,$(CFLAGS)),)
ALL_CFLAGS	+= -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
LDFLAGS		+= -pie -Wl,-z,relro,-z,now
endif

# Quiet rules unless V=1.
ifeq ($(V),1)
Q		 =
quiet		 = @true
else
Q		 = @
quiet		 = @printf '  %-6s %s\n'
endif

pc_cflags	 = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs		 = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

COMMON_PKGS	 = openssl jansson inih
SERVER_PKGS	 = $(COMMON_PKGS) libpq libqrencode libcurl libmicrohttpd
CLIENT_PKGS	 = $(COMMON_PKGS) ncursesw
GUICHET_PKGS	 = $(COMMON_PKGS) libmicrohttpd
SSHD_PKGS	 = $(COMMON_PKGS) libssh

COMMON_SRCS	 = common/buf.c common/config.c common/hex.c common/log.c \
		   common/net.c common/proto.c \
		   common/rpc.c common/state.c common/tls.c common/utf8.c \
		   common/valid.c \
		   common/xmalloc.c
SERVER_SRCS	 = server/server.c server/loop.c server/conn.c \
		   server/worker.c server/req.c \
		   server/gate.c server/session.c server/db.c server/migrate.c \
		   server/password.c server/totp.c server/text.c server/mail.c \
		   server/mail-text.c server/mail-deliver.c server/mailer.c \
		   server/op-whoami.c server/op-classes.c server/op-search.c \
		   server/op-stats.c server/op-staff.c server/op-import.c \
		   server/op-notify.c server/op-reset.c server/op-list.c \
		   server/op-show.c server/op-journal.c server/onde.c \
		   server/onde-print.c \
		   server/crypto.c server/account.c server/document.c \
		   server/selection.c server/sshkey.c server/op-ssh.c \
		   server/guardian.c server/op-guardian.c \
		   server/op-guardian-links.c server/op-set-email.c \
		   server/pdf.c server/pdf-letter.c server/pdf-list.c \
		   server/metrics.c server/metrics-http.c \
		   server/metrics-outbox.c
CTL_SRCS	 = client/ecadmctl.c client/ctl-school.c client/ctl-accounts.c \
		   client/ctl-staff.c client/card.c client/settings.c \
		   client/table.c
TUI_SRCS	 = client/ecadm.c client/settings.c client/tui.c client/card.c \
		   client/screen-login.c client/screen-responsables.c \
		   client/screen-fiche.c client/widget-table.c \
		   client/widget-dialog.c client/screen-etat.c \
		   client/screen-journal.c client/screen-aide.c \
		   client/document.c
GUICHET_SRCS	 = guichet/main.c guichet/http.c guichet/routes.c \
		   guichet/backend.c guichet/pages.c guichet/forms.c
SSHD_SRCS	 = sshd/main.c sshd/auth.c sshd/session.c sshd/sftp.c
SQL_FILES	 = $(sort $(wildcard sql/[0-9]*.sql))

COMMON_OBJS	 = $(COMMON_SRCS:%.c=$(BUILD)/%.o)
SERVER_OBJS	 = $(SERVER_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/sql-embed.o
CTL_OBJS	 = $(CTL_SRCS:%.c=$(BUILD)/%.o)
TUI_OBJS	 = $(TUI_SRCS:%.c=$(BUILD)/%.o)
GUICHET_OBJS	 = $(GUICHET_SRCS:%.c=$(BUILD)/%.o)
SSHD_OBJS	 = $(SSHD_SRCS:%.c=$(BUILD)/%.o)

PROGRAMS	 = $(BUILD)/ecadmd $(BUILD)/ecadmctl $(BUILD)/ecadm \
		   $(BUILD)/ecadm-guichet $(BUILD)/ecadm-sshd
UNIT_TESTS	 = $(BUILD)/tests/test-valid $(BUILD)/tests/test-proto \
		   $(BUILD)/tests/test-password $(BUILD)/tests/test-buf \
		   $(BUILD)/tests/test-onde $(BUILD)/tests/test-crypto \
		   $(BUILD)/tests/test-text $(BUILD)/tests/test-sftp-path \
		   $(BUILD)/tests/test-sshkey $(BUILD)/tests/test-metrics

.PHONY: all deps check check-unit check-integration check-asan check-tsan \
	check-fuzz fuzz demo serve stop bench stress install clean

all: $(PROGRAMS)

$(BUILD)/common/%.o: common/%.c
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(call pc_cflags,$(COMMON_PKGS)) -c -o $@ $<

$(BUILD)/server/%.o: server/%.c
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) -Iserver $(ALL_CFLAGS) $(call pc_cflags,$(SERVER_PKGS)) -c -o $@ $<

$(BUILD)/client/%.o: client/%.c
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) -Iclient $(ALL_CFLAGS) $(call pc_cflags,$(CLIENT_PKGS)) -c -o $@ $<

$(BUILD)/guichet/%.o: guichet/%.c
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) -Iguichet $(ALL_CFLAGS) $(call pc_cflags,$(GUICHET_PKGS)) -c -o $@ $<

$(BUILD)/sshd/%.o: sshd/%.c
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) -Isshd $(ALL_CFLAGS) $(call pc_cflags,$(SSHD_PKGS)) -c -o $@ $<

$(BUILD)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) -Iserver $(ALL_CFLAGS) $(call pc_cflags,$(SERVER_PKGS) cmocka) -c -o $@ $<

$(BUILD)/sql-embed.c: tools/embed-sql.sh $(SQL_FILES)
	@mkdir -p $(@D)
	sh tools/embed-sql.sh $(SQL_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/sql-embed.o: $(BUILD)/sql-embed.c
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) -Iserver $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/ecadmd: $(SERVER_OBJS) $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(SERVER_PKGS)) -lcsv -lhpdf

$(BUILD)/ecadmctl: $(CTL_OBJS) $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(COMMON_PKGS) libqrencode)

$(BUILD)/ecadm: $(TUI_OBJS) $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(CLIENT_PKGS))

$(BUILD)/ecadm-guichet: $(GUICHET_OBJS) $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(GUICHET_PKGS))

$(BUILD)/ecadm-sshd: $(SSHD_OBJS) $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(SSHD_PKGS))

# Unit tests link the module under test and what it needs.
$(BUILD)/tests/test-valid: $(BUILD)/tests/test-valid.o $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(COMMON_PKGS) cmocka)
$(BUILD)/tests/test-proto: $(BUILD)/tests/test-proto.o $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(COMMON_PKGS) cmocka)
$(BUILD)/tests/test-buf: $(BUILD)/tests/test-buf.o $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(COMMON_PKGS) cmocka)
$(BUILD)/tests/test-text: $(BUILD)/tests/test-text.o $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(COMMON_PKGS) cmocka)
$(BUILD)/tests/test-password: $(BUILD)/tests/test-password.o \
    $(BUILD)/server/password.o $(BUILD)/server/totp.o $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(COMMON_PKGS) cmocka)
$(BUILD)/tests/test-onde: $(BUILD)/tests/test-onde.o \
    $(BUILD)/server/onde.o $(BUILD)/server/onde-print.o $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(COMMON_PKGS) cmocka) -lcsv
$(BUILD)/tests/test-crypto: $(BUILD)/tests/test-crypto.o \
    $(BUILD)/server/crypto.o $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(COMMON_PKGS) cmocka)
# Its header is in sshd/ and includes libssh's.
$(BUILD)/tests/test-sftp-path.o: tests/unit/test-sftp-path.c
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) -Isshd $(ALL_CFLAGS) $(call pc_cflags,$(SSHD_PKGS) cmocka) -c -o $@ $<
$(BUILD)/tests/test-sftp-path: $(BUILD)/tests/test-sftp-path.o \
    $(BUILD)/sshd/sftp.o $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(SSHD_PKGS) cmocka)
$(BUILD)/tests/test-sshkey: $(BUILD)/tests/test-sshkey.o \
    $(BUILD)/server/sshkey.o $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(COMMON_PKGS) cmocka)
$(BUILD)/tests/test-metrics: $(BUILD)/tests/test-metrics.o \
    $(BUILD)/server/metrics.o $(COMMON_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(call pc_libs,$(COMMON_PKGS) cmocka)

deps:
	@sh tools/deps.sh

# The benchmarks and the stress tool are built by check too, so a change
# of the client API cannot leave them broken until someone measures.
BENCH_PROGS	 = $(BUILD)/bench/notify-baseline $(BUILD)/bench/idle-sessions \
		   $(BUILD)/bench/search-load $(BUILD)/bench/scrypt-baseline \
		   $(BUILD)/bench/guichet-load $(BUILD)/bench/stress

check: deps
	$(MAKE) all $(UNIT_TESTS) $(BENCH_PROGS)
	$(MAKE) check-unit check-integration
	$(MAKE) check-asan
	$(MAKE) check-tsan
	$(MAKE) check-fuzz

check-unit: $(UNIT_TESTS)
	@sh tests/run-unit.sh $(UNIT_TESTS)

check-integration: all
	ECADM_BUILD=$(BUILD) /usr/bin/python3 -m unittest discover \
	    -s tests/integration -p 'test_*.py' -v

check-asan:
	$(MAKE) SANITIZE=address,undefined all $(UNIT_TESTS:build/%=build-san/%)
	$(MAKE) SANITIZE=address,undefined check-unit check-integration

# ThreadSanitizer over the tests that drive the hand-off between the loop
# and the workers (pipelining, resets with jobs in flight, a full queue,
# PostgreSQL stopped under load), the metrics thread reading what they
# count, and the import's COPY sender (whole files, refused ones).
TSAN_TESTS	 = test_protocol test_abuse test_metrics test_haproxy \
		   test_import test_zz_shutdown
check-tsan:
	$(MAKE) SANITIZE=thread BUILD=build-tsan all
	cd tests/integration && ECADM_BUILD=$(CURDIR)/build-tsan \
	    /usr/bin/python3 -m unittest -v $(TSAN_TESTS)

# libFuzzer targets (tests/fuzz), always with clang and ASan/UBSan, into
# their own directory: the library code is built again with coverage.
FUZZ_CC		?= clang
FUZZ_BUILD	 = build-fuzz
FUZZ_TIME	?= 60
FUZZ_TARGETS	?= fuzz-frame fuzz-onde fuzz-ini fuzz-reply fuzz-sshkey
FUZZ_SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
FUZZ_CFLAGS	 = -std=gnu11 -pthread $(WARNINGS) -O1 -g $(FUZZ_SAN) \
		   -fsanitize=fuzzer-no-link -MMD -MP
FUZZ_OBJS	 = $(COMMON_SRCS:%.c=$(FUZZ_BUILD)/%.o) \
		   $(FUZZ_BUILD)/server/onde.o $(FUZZ_BUILD)/server/sshkey.o
FUZZ_PROGS	 = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
# Made through pattern rules only, yet worth keeping between builds.
.SECONDARY: $(FUZZ_OBJS) $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/tests/fuzz/%.o)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(FUZZ_CC) $(CPPFLAGS) -Iserver $(FUZZ_CFLAGS) \
	    $(call pc_cflags,$(COMMON_PKGS)) -c -o $@ $<

$(FUZZ_BUILD)/fuzz-%: $(FUZZ_BUILD)/tests/fuzz/fuzz-%.o $(FUZZ_OBJS)
	$(quiet) LD $@
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -pthread -o $@ $^ \
	    $(call pc_libs,$(COMMON_PKGS)) -lcsv

fuzz: $(FUZZ_PROGS)
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ_TARGETS)

check-fuzz: $(FUZZ_PROGS)
	@sh tests/fuzz/run.sh -r $(FUZZ_BUILD) $(FUZZ_TARGETS)

$(BUILD)/bench/notify-baseline: bench/notify-baseline.c
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(call pc_cflags,libpq) -o $@ $< \
	    $(LDFLAGS) $(call pc_libs,libpq) -lhpdf

$(BUILD)/bench/idle-sessions: bench/idle-sessions.c $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(call pc_cflags,$(COMMON_PKGS)) \
	    -o $@ $(filter %.c %.o,$^) $(LDFLAGS) $(call pc_libs,$(COMMON_PKGS))

$(BUILD)/bench/search-load: bench/search-load.c $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(call pc_cflags,$(COMMON_PKGS)) \
	    -o $@ $(filter %.c %.o,$^) $(LDFLAGS) $(call pc_libs,$(COMMON_PKGS))

$(BUILD)/bench/scrypt-baseline: bench/scrypt-baseline.c \
    $(BUILD)/server/password.o $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) -Iserver $(ALL_CFLAGS) \
	    $(call pc_cflags,$(COMMON_PKGS)) -o $@ $(filter %.c %.o,$^) \
	    $(LDFLAGS) $(call pc_libs,$(COMMON_PKGS))

$(BUILD)/bench/guichet-load: bench/guichet-load.c
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(call pc_cflags,libcurl) -o $@ $< \
	    $(LDFLAGS) $(call pc_libs,libcurl)

bench: deps all $(BENCH_PROGS)
	ECADM_BUILD=$(BUILD) /usr/bin/python3 bench/bench.py $(BENCH)

STRESS_SRCS	 = bench/stress.c bench/stress-lib.c bench/stress-staff.c \
		   bench/stress-abuse.c

# The sources and the objects, not $^: -MMD adds the headers to the
# prerequisites.
$(BUILD)/bench/stress: $(STRESS_SRCS) bench/stress.h $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(CPPFLAGS) -Ibench $(ALL_CFLAGS) \
	    $(call pc_cflags,$(COMMON_PKGS)) -o $@ $(STRESS_SRCS) \
	    $(COMMON_OBJS) $(LDFLAGS) $(call pc_libs,$(COMMON_PKGS))

stress: deps all $(BUILD)/bench/stress
	ECADM_BUILD=$(BUILD) STRESS_TIME=$(STRESS_TIME) \
	    STRESS_DEMO=$(STRESS_DEMO) /usr/bin/python3 bench/stress.py

demo: deps all
	@sh tools/stack.sh demo

serve: deps all
	@sh tools/stack.sh start

stop:
	@sh tools/stack.sh stop

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/ecadm \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 755 $(BUILD)/ecadmd $(BUILD)/ecadm-guichet \
	    $(BUILD)/ecadm-sshd $(DESTDIR)$(SBINDIR)/
	install -m 755 $(BUILD)/ecadmctl $(BUILD)/ecadm $(DESTDIR)$(BINDIR)/
	install -m 644 doc/ecadm.1 doc/ecadmctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 doc/ecadmd.8 doc/ecadm-guichet.8 doc/ecadm-sshd.8 \
	    $(DESTDIR)$(MANDIR)/man8/
	sed 's|@SBINDIR@|$(SBINDIR)|g' etc/ecadmd.service.in \
	    > $(DESTDIR)$(PREFIX)/lib/systemd/system/ecadmd.service
	sed 's|@SBINDIR@|$(SBINDIR)|g' etc/ecadm-guichet.service.in \
	    > $(DESTDIR)$(PREFIX)/lib/systemd/system/ecadm-guichet.service
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
	    etc/ecadm-sshd.service.in \
	    > $(DESTDIR)$(PREFIX)/lib/systemd/system/ecadm-sshd.service
	install -m 640 etc/ecadmd.ini \
	    $(DESTDIR)$(SYSCONFDIR)/ecadm/ecadmd.ini.example
	install -m 640 etc/ecadm-guichet.ini \
	    $(DESTDIR)$(SYSCONFDIR)/ecadm/ecadm-guichet.ini.example
	install -m 640 etc/ecadm-sshd.ini \
	    $(DESTDIR)$(SYSCONFDIR)/ecadm/ecadm-sshd.ini.example
	install -m 644 etc/nginx-guichet.conf \
	    $(DESTDIR)$(SYSCONFDIR)/ecadm/nginx-guichet.conf.example
	install -m 644 etc/prometheus.yml \
	    $(DESTDIR)$(SYSCONFDIR)/ecadm/prometheus.yml.example
	install -m 644 etc/ecadmd-alerts.yml \
	    $(DESTDIR)$(SYSCONFDIR)/ecadm/ecadmd-alerts.yml.example

clean:
	rm -rf build build-san build-tsan $(FUZZ_BUILD)

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)

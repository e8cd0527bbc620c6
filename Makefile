# Rose — one Makefile builds everything: lib/librose.a, cgi-bin/*.fcgi,
# cron/rose-*, the unit tests and the fuzz-corpus replayers.
#
#   make run        install what is missing, build, serve on 127.0.0.1:8080
#   make test       install what is missing, build, run every test
#   make WERROR=1   warnings are errors (CI)
#   make SAN=1      AddressSanitizer + UndefinedBehaviorSanitizer
#   make install    honours DESTDIR and PREFIX
#   make fuzz       libFuzzer binaries (clang) in build/fuzz/
#
# Objects go to build/; a change of compiler flags rebuilds everything, so
# `make test` and `make SAN=1 test` can follow each other safely.

PREFIX  ?= /usr/local
DESTDIR ?=
PORT    ?= 8080
CC      ?= cc

PKGS := fcgi libcurl sqlite3 json-c uuid
# The offline speech engines.  Not `pkg-config --cflags pocketsphinx`: it
# puts sphinxbase's err.h ahead of glibc's <err.h>; only this directory is
# needed.  Flite has no pkg-config file: voice slt and the English lexicon.
SPEECH_CFLAGS := -I$(shell pkg-config --variable=includedir pocketsphinx 2>/dev/null)/pocketsphinx
SPEECH_LIBS   := $(shell pkg-config --libs pocketsphinx 2>/dev/null) \
		 -lflite_cmu_us_slt -lflite_usenglish -lflite_cmulex -lflite

# Debian packages: to build and serve, and the extra ones the tests need.
DEB_RUN  := gcc make pkg-config libc6-dev libfcgi-dev libcurl4-openssl-dev \
	    libsqlite3-dev libjson-c-dev uuid-dev lighttpd sqlite3 curl \
	    libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us flite1-dev \
	    fasttext wordnet-base dict-gcide perl
DEB_TEST := $(DEB_RUN) apache2 libapache2-mod-fcgid jq python3 chromium \
	    clang procps prometheus flite sox

CFLAGS_STD := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Ilib
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral
ifeq ($(SAN),1)
OPT := -O1 -g -fno-omit-frame-pointer \
       -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN := -fsanitize=address,undefined
else
OPT := -O2 -g -D_FORTIFY_SOURCE=2
LDSAN :=
endif
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ALL_CFLAGS  := $(CFLAGS_STD) $(OPT) $(WARN) -fstack-protector-strong \
	       -MMD -MP $(PKG_CFLAGS) $(SPEECH_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := -Wl,--as-needed $(LDSAN) $(LDFLAGS)
LIBS        := $(PKG_LIBS) $(SPEECH_LIBS) -lm -lpthread

# Rebuild everything when the flags change (see header comment).
FLAGS_STAMP := build/flags
$(shell mkdir -p build && \
	echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS)' | cmp -s - $(FLAGS_STAMP) || \
	echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS)' > $(FLAGS_STAMP))

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=build/%.o)
LIB      := lib/librose.a

CGI_SRC  := $(sort $(wildcard cgi-bin/*.c))
CGI_BIN  := $(CGI_SRC:.c=.fcgi)
CRON_SRC := $(sort $(wildcard cron/rose-*.c))
CRON_BIN := $(CRON_SRC:.c=)

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=build/tests/replay_%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=build/bench/%)

.PHONY: all run test deps deps-test check-tests clean install fuzz bench

# The local embedder's model: fastText vectors trained on Debian's WordNet
# and GCIDE text (about 3 minutes on 2 cores, once; the script skips the
# work when the model is newer than its inputs).
EMBED_MODEL := build/embed/rose-embed.bin

all: $(LIB) $(CGI_BIN) $(CRON_BIN) $(EMBED_MODEL)

$(EMBED_MODEL): $(wildcard lib/engines/embed-model/*)
	@mkdir -p $(@D)
	lib/engines/embed-model/build.sh $@

build/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

cgi-bin/%.fcgi: build/cgi-bin/%.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

cron/rose-%: build/cron/rose-%.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

build/tests/test_%: build/tests/unit/test_%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

build/tests/replay_%: build/tests/fuzz/%.o build/tests/fuzz/replay.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< build/tests/fuzz/replay.o $(LIB) $(LIBS)

build/bench/%: build/bench/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# libFuzzer builds need clang; not part of `make test` (the corpus replay is).
fuzz: $(FUZZ_BIN)
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p $(@D)
	clang $(CFLAGS_STD) -O1 -g -fsanitize=fuzzer,address,undefined \
	  $(PKG_CFLAGS) $(SPEECH_CFLAGS) -o $@ $< $(LIB_SRC) $(LIBS)

check-tests: all $(UNIT_BIN) $(FUZZ_REPLAY) $(BENCH_BIN)

bench: all $(BENCH_BIN)
	bench/run

# Install missing Debian packages (root) or print the one apt-get line.
deps:
	@tests/deps.sh $(DEB_RUN)
deps-test:
	@tests/deps.sh $(DEB_TEST)
	@tests/browser/setup.sh

run: deps
	@$(MAKE) --no-print-directory all
	@PORT=$(PORT) tests/serve.sh

test: deps-test
	@$(MAKE) --no-print-directory check-tests
	@tests/run

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/rose/cgi-bin $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/rose/www $(DESTDIR)$(PREFIX)/share/rose/conf
	install -m 0755 $(CGI_BIN) $(DESTDIR)$(PREFIX)/lib/rose/cgi-bin/
	install -m 0755 $(CRON_BIN) $(DESTDIR)$(PREFIX)/bin/
	cp -R www/. $(DESTDIR)$(PREFIX)/share/rose/www/
	install -m 0644 $(EMBED_MODEL) $(DESTDIR)$(PREFIX)/share/rose/rose-embed.bin
	install -m 0644 conf/lighttpd.conf conf/apache-rose.conf \
	  conf/rose.conf.example $(wildcard conf/crontab) \
	  $(DESTDIR)$(PREFIX)/share/rose/conf/

clean:
	rm -rf build $(LIB) $(CGI_BIN) $(CRON_BIN)

-include $(shell find build -name '*.d' 2>/dev/null)

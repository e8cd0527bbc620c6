build/cgi-bin/health.o: cgi-bin/health.c lib/rose.h lib/core/buf.h \
 lib/core/err.h lib/core/config.h lib/core/crypto.h lib/core/err.h \
 lib/core/limits.h lib/core/log.h lib/core/text.h lib/http/fields.h \
 lib/http/http.h lib/core/config.h lib/store/store.h lib/store/store.h \
 lib/store/users.h
lib/rose.h:
lib/core/buf.h:
lib/core/err.h:
lib/core/config.h:
lib/core/crypto.h:
lib/core/err.h:
lib/core/limits.h:
lib/core/log.h:
lib/core/text.h:
lib/http/fields.h:
lib/http/http.h:
lib/core/config.h:
lib/store/store.h:
lib/store/store.h:
lib/store/users.h:

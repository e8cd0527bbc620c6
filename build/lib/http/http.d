build/lib/http/http.o: lib/http/http.c lib/core/buf.h lib/core/err.h \
 lib/core/crypto.h lib/core/limits.h lib/core/log.h lib/core/text.h \
 lib/http/fields.h lib/http/http.h lib/core/config.h lib/store/store.h
lib/core/buf.h:
lib/core/err.h:
lib/core/crypto.h:
lib/core/limits.h:
lib/core/log.h:
lib/core/text.h:
lib/http/fields.h:
lib/http/http.h:
lib/core/config.h:
lib/store/store.h:

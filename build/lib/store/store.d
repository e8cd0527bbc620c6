build/lib/store/store.o: lib/store/store.c lib/core/log.h \
 lib/store/schema.h lib/store/store.h lib/core/err.h
lib/core/log.h:
lib/store/schema.h:
lib/store/store.h:
lib/core/err.h:

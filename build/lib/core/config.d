build/lib/core/config.o: lib/core/config.c lib/core/config.h \
 lib/core/err.h lib/core/limits.h
lib/core/config.h:
lib/core/err.h:
lib/core/limits.h:

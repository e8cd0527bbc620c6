build/lib/providers/sse.o: lib/providers/sse.c lib/core/buf.h \
 lib/core/err.h lib/providers/sse.h
lib/core/buf.h:
lib/core/err.h:
lib/providers/sse.h:

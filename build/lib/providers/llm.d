build/lib/providers/llm.o: lib/providers/llm.c lib/core/buf.h \
 lib/core/err.h lib/core/limits.h lib/providers/llm.h lib/providers/sse.h
lib/core/buf.h:
lib/core/err.h:
lib/core/limits.h:
lib/providers/llm.h:
lib/providers/sse.h:

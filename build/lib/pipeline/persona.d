build/lib/pipeline/persona.o: lib/pipeline/persona.c lib/core/buf.h \
 lib/core/err.h lib/core/text.h lib/pipeline/persona.h
lib/core/buf.h:
lib/core/err.h:
lib/core/text.h:
lib/pipeline/persona.h:

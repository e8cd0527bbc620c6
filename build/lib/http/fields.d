build/lib/http/fields.o: lib/http/fields.c lib/core/limits.h \
 lib/core/text.h lib/http/fields.h lib/core/err.h
lib/core/limits.h:
lib/core/text.h:
lib/http/fields.h:
lib/core/err.h:

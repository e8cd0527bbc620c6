build/lib/core/crypto.o: lib/core/crypto.c lib/core/crypto.h \
 lib/core/err.h
lib/core/crypto.h:
lib/core/err.h:

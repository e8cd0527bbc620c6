build/lib/store/users.o: lib/store/users.c lib/core/crypto.h \
 lib/core/err.h lib/core/text.h lib/store/users.h lib/store/store.h
lib/core/crypto.h:
lib/core/err.h:
lib/core/text.h:
lib/store/users.h:
lib/store/store.h:

build/lib/core/log.o: lib/core/log.c lib/core/log.h lib/core/text.h
lib/core/log.h:
lib/core/text.h:

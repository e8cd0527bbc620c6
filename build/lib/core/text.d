build/lib/core/text.o: lib/core/text.c lib/core/text.h
lib/core/text.h:

build/lib/store/schema.o: lib/store/schema.c lib/store/schema.h
lib/store/schema.h:

/*
 * replay.c — runs every file of a fuzz corpus through LLVMFuzzerTestOneInput
 * so the corpus is an ordinary regression test in `make test`.
 *
 *   replay_fuzz_x DIR...   prints one TAP line per file
 *
 * A crash or sanitizer report aborts the process, which tests/run counts as
 * a failure of the whole harness.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static int
replay_file(const char *path)
{
    FILE *f;
    struct stat st;
    uint8_t *buf;
    size_t got;

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    if ((f = fopen(path, "rb")) == NULL)
        return -1;
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        fclose(f);
        return -1;
    }
    got = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, got);
    free(buf);
    printf("ok %d - replay %s\n", ++n, path);
    return 0;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    int i, failed = 0;

    for (i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        char **names = NULL;
        size_t nn = 0, j;

        if (d == NULL) {
            failed += replay_file(argv[i]) != 0;
            continue;
        }
        while ((e = readdir(d)) != NULL) {
            char **p;
            if (e->d_name[0] == '.')
                continue;
            p = realloc(names, (nn + 1) * sizeof(*names));
            if (p == NULL)
                return 2;
            names = p;
            names[nn] = malloc(strlen(argv[i]) + strlen(e->d_name) + 2);
            if (names[nn] == NULL)
                return 2;
            sprintf(names[nn], "%s/%s", argv[i], e->d_name);
            nn++;
        }
        closedir(d);
        qsort(names, nn, sizeof(*names), name_cmp);
        for (j = 0; j < nn; j++) {
            if (replay_file(names[j]) != 0) {
                printf("not ok %d - cannot read %s\n", ++n, names[j]);
                failed++;
            }
            free(names[j]);
        }
        free(names);
    }
    if (n == 0) {
        printf("not ok 1 - empty corpus\n");
        return 1;
    }
    return failed ? 1 : 0;
}

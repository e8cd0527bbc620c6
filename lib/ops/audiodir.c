/*
 * audiodir.c — audio files under DATA_DIR/audio (see audiodir.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/text.h"
#include "ops/audiodir.h"

static const char *const exts[] = {".wav", ".mp3"};

#define NEXTS (sizeof(exts) / sizeof(exts[0]))

enum rose_err
rose_audiodir_open(const char *data_dir, int *dirfd)
{
    char path[4096];
    int fd;

    if (snprintf(path, sizeof(path), "%s/audio", data_dir) >= (int)sizeof(path)) {
        rose_logf(ROSE_LOG_ERROR, "audio_dir", "DATA_DIR is too long");
        return ROSE_ERR_IO;
    }
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        *dirfd = -1;
        return ROSE_OK;
    }
    if (fd < 0) {
        rose_logf(ROSE_LOG_ERROR, "audio_dir", "cannot open %s: %s", path,
                  errno == ELOOP || errno == ENOTDIR ? "not a folder, or a symbolic link"
                                                     : strerror(errno));
        return ROSE_ERR_IO;
    }
    *dirfd = fd;
    return ROSE_OK;
}

int
rose_audiodir_id_valid(const char *id)
{
    const char *p;

    if (id == NULL || !rose_uuid_valid(id))
        return 0;
    for (p = id; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            return 0;
    return 1;
}

int
rose_audiodir_name_id(const char *name, char id[37])
{
    size_t i;

    if (strlen(name) != 36 + 4)
        return 0;
    for (i = 0; i < NEXTS; i++) {
        if (strcmp(name + 36, exts[i]) != 0)
            continue;
        memcpy(id, name, 36);
        id[36] = '\0';
        return rose_audiodir_id_valid(id);
    }
    return 0;
}

/* Does name exist as a regular file?  Links are not followed. */
static int
regular(int dirfd, const char *name, struct stat *st)
{
    return fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st->st_mode);
}

int
rose_audiodir_has_file(int dirfd, const char *id)
{
    char name[64];
    struct stat st;
    size_t i;

    if (dirfd < 0)
        return 0;
    for (i = 0; i < NEXTS; i++) {
        snprintf(name, sizeof(name), "%s%s", id, exts[i]);
        if (regular(dirfd, name, &st))
            return 1;
    }
    return 0;
}

enum rose_err
rose_audiodir_remove_name(int dirfd, const char *name, int dry_run, int *removed, long long *bytes)
{
    struct stat st;

    *removed = 0;
    if (!regular(dirfd, name, &st))
        return ROSE_OK;
    /* unlinkat() never follows a link; if the name was swapped for one since
     * the fstatat(), only the link goes, never what it points to. */
    if (!dry_run && unlinkat(dirfd, name, 0) != 0) {
        if (errno == ENOENT)
            return ROSE_OK;
        rose_logf(ROSE_LOG_ERROR, "audio_unlink", "%s: %s", name, strerror(errno));
        return ROSE_ERR_IO;
    }
    *removed = 1;
    *bytes += (long long)st.st_size;
    return ROSE_OK;
}

enum rose_err
rose_audiodir_remove(int dirfd, const char *id, int dry_run, long *files, long long *bytes)
{
    char name[64];
    enum rose_err err = ROSE_OK, e;
    size_t i;
    int removed;

    if (dirfd < 0 || !rose_audiodir_id_valid(id))
        return ROSE_OK;
    for (i = 0; i < NEXTS; i++) {
        snprintf(name, sizeof(name), "%s%s", id, exts[i]);
        if ((e = rose_audiodir_remove_name(dirfd, name, dry_run, &removed, bytes)) != ROSE_OK)
            err = e;
        *files += removed;
    }
    return err;
}

void
rose_audiodir_remove_ids(const char *data_dir, const char (*ids)[37], size_t n)
{
    long files = 0;
    long long bytes = 0;
    size_t i;
    int dirfd = -1;

    if (n == 0 || rose_audiodir_open(data_dir, &dirfd) != ROSE_OK || dirfd < 0)
        return;
    for (i = 0; i < n; i++)
        if (rose_audiodir_id_valid(ids[i]))
            rose_audiodir_remove(dirfd, ids[i], 0, &files, &bytes);
    close(dirfd);
}

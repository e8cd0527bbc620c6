/*
 * audio.c — audio files, their index and the TTS cache (audio.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/log.h"
#include "core/text.h"
#include "store/audio.h"

const char *
rose_audio_ext(const char *mime)
{
    if (strcmp(mime, "audio/wav") == 0)
        return "wav";
    if (strcmp(mime, "audio/mpeg") == 0)
        return "mp3";
    return NULL;
}

/* Open (creating, mode 0700) DATA_DIR/<sub> without following a link. */
static int
open_subdir(const char *data_dir, const char *sub)
{
    char path[4096];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", data_dir, sub);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd;
}

/* Write all of data to a new file name in dirfd (O_EXCL, 0600), synced. */
static enum rose_err
write_new(int dirfd, const char *name, const void *data, size_t len)
{
    const char *p = data;
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0)
        return ROSE_ERR_IO;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlinkat(dirfd, name, 0);
            return ROSE_ERR_IO;
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlinkat(dirfd, name, 0);
        return ROSE_ERR_IO;
    }
    return ROSE_OK;
}

static enum rose_err
insert_row(struct rose_store *st, const char *id, const char *session_id, const char *user_id,
           const char *mime, long long bytes)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(st,
                                  "INSERT INTO audio (id, session_id, user_id, mime, bytes, "
                                  "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                  &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if (session_id != NULL && *session_id)
        sqlite3_bind_text(s, 2, session_id, -1, SQLITE_STATIC);
    if (user_id != NULL && *user_id)
        sqlite3_bind_text(s, 3, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, mime, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, bytes);
    sqlite3_bind_int64(s, 6, rose_now_ms());
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? ROSE_OK : rose_store_err(rc);
}

enum rose_err
rose_audio_save(struct rose_store *st, const char *data_dir, const char *session_id,
                const char *user_id, const char *mime, const void *data, size_t len,
                char id[37])
{
    const char *ext = rose_audio_ext(mime);
    char nid[37], name[48];
    int dirfd;
    enum rose_err err;

    if (ext == NULL)
        return ROSE_ERR_INTERNAL;
    if ((dirfd = open_subdir(data_dir, "audio")) < 0) {
        rose_logf(ROSE_LOG_ERROR, "audio_dir", "cannot open the audio folder: %s",
                  strerror(errno));
        return ROSE_ERR_IO;
    }
    rose_uuid_new(nid);
    snprintf(name, sizeof(name), "%s.%s", nid, ext);
    if ((err = write_new(dirfd, name, data, len)) != ROSE_OK) {
        rose_logf(ROSE_LOG_ERROR, "audio_write", "audio %s: %s", nid, strerror(errno));
        goto out;
    }
    if ((err = insert_row(st, nid, session_id, user_id, mime, (long long)len)) != ROSE_OK) {
        unlinkat(dirfd, name, 0);
        goto out;
    }
    memcpy(id, nid, sizeof(nid));
out:
    close(dirfd);
    return err;
}

static void
copy_text(sqlite3_stmt *s, int col, char *dst, size_t len)
{
    const unsigned char *v = sqlite3_column_text(s, col);

    snprintf(dst, len, "%s", v ? (const char *)v : "");
}

enum rose_err
rose_audio_find(struct rose_store *st, const char *id, struct rose_audio_row *out)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(st,
                                  "SELECT id, session_id, user_id, mime, bytes, created_at "
                                  "FROM audio WHERE id = ?1",
                                  &s)) != ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        copy_text(s, 0, out->id, sizeof(out->id));
        copy_text(s, 1, out->session_id, sizeof(out->session_id));
        copy_text(s, 2, out->user_id, sizeof(out->user_id));
        copy_text(s, 3, out->mime, sizeof(out->mime));
        out->bytes = sqlite3_column_int64(s, 4);
        out->created_at = sqlite3_column_int64(s, 5);
    } else {
        err = rc == SQLITE_DONE ? ROSE_ERR_NOT_FOUND : rose_store_err(rc);
    }
    sqlite3_finalize(s);
    return err;
}

enum rose_err
rose_audio_link(struct rose_store *st, const char *id, long long message_id)
{
    sqlite3_stmt *s = NULL;
    enum rose_err err;
    int rc;

    if ((err = rose_store_prepare(st, "UPDATE audio SET message_id = ?2 WHERE id = ?1", &s)) !=
        ROSE_OK)
        return err;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, message_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE && sqlite3_changes(rose_store_db(st)) == 0)
        err = ROSE_ERR_NOT_FOUND;
    else if (rc != SQLITE_DONE)
        err = rose_store_err(rc);
    sqlite3_finalize(s);
    return err;
}

enum rose_err
rose_audio_open(const char *data_dir, const struct rose_audio_row *row, int *fd, off_t *size)
{
    const char *ext = rose_audio_ext(row->mime);
    char path[4096];
    struct stat stt;
    int f;

    if (ext == NULL || !rose_uuid_valid(row->id))
        return ROSE_ERR_NOT_FOUND;
    snprintf(path, sizeof(path), "%s/audio/%s.%s", data_dir, row->id, ext);
    if ((f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return ROSE_ERR_NOT_FOUND;
    if (fstat(f, &stt) != 0 || !S_ISREG(stt.st_mode)) {
        close(f);
        return ROSE_ERR_NOT_FOUND;
    }
    *fd = f;
    *size = stt.st_size;
    return ROSE_OK;
}

void
rose_tts_cache_key(const char *provider, const char *voice, const char *model,
                   const char *settings, const char *text, char key[65])
{
    unsigned char h[ROSE_SHA256_LEN];
    char buf[8192];
    int n = snprintf(buf, sizeof(buf), "%s%c%s%c%s%c%s%c", provider, 0, voice, 0, model, 0,
                     settings, 0);
    size_t tl = strlen(text);
    unsigned char *all;

    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(buf))
        n = (int)sizeof(buf);
    /* Hash header and text together without a fixed-size copy of the text. */
    all = malloc((size_t)n + tl);
    if (all == NULL) {
        rose_sha256(text, tl, h); /* degraded key: still deterministic */
    } else {
        memcpy(all, buf, (size_t)n);
        memcpy(all + n, text, tl);
        rose_sha256(all, (size_t)n + tl, h);
        free(all);
    }
    rose_hex(h, sizeof(h), key);
}

/* The cache folder of a user: DATA_DIR/tts-cache/<user_id> (created). */
static int
open_user_cache(const char *data_dir, const char *user_id)
{
    char sub[64];

    if (user_id == NULL || !rose_uuid_valid(user_id))
        return -1;
    {
        int top = open_subdir(data_dir, "tts-cache");
        if (top < 0)
            return -1;
        close(top);
    }
    snprintf(sub, sizeof(sub), "tts-cache/%s", user_id);
    return open_subdir(data_dir, sub);
}

enum rose_err
rose_tts_cache_take(struct rose_store *st, const char *data_dir, const char *key,
                    const char *mime, const char *session_id, const char *user_id, char id[37])
{
    const char *ext = rose_audio_ext(mime);
    char from[96], to[48], nid[37];
    struct stat stt;
    int cfd = -1, afd = -1;
    enum rose_err err = ROSE_ERR_NOT_FOUND;

    if (ext == NULL)
        return ROSE_ERR_INTERNAL;
    snprintf(from, sizeof(from), "%s.%s", key, ext);
    if ((cfd = open_user_cache(data_dir, user_id)) < 0 ||
        fstatat(cfd, from, &stt, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(stt.st_mode))
        goto out;
    if ((afd = open_subdir(data_dir, "audio")) < 0) {
        err = ROSE_ERR_IO;
        goto out;
    }
    rose_uuid_new(nid);
    snprintf(to, sizeof(to), "%s.%s", nid, ext);
    if (linkat(cfd, from, afd, to, 0) != 0)
        goto out; /* e.g. evicted meanwhile: a miss */
    if ((err = insert_row(st, nid, session_id, user_id, mime, (long long)stt.st_size)) !=
        ROSE_OK) {
        unlinkat(afd, to, 0);
        goto out;
    }
    memcpy(id, nid, sizeof(nid));
out:
    if (cfd >= 0)
        close(cfd);
    if (afd >= 0)
        close(afd);
    return err;
}

void
rose_tts_cache_put(const char *data_dir, const char *user_id, const char *key, const char *mime,
                   const void *data, size_t len)
{
    const char *ext = rose_audio_ext(mime);
    char name[96], tmp[112];
    int cfd;

    if (ext == NULL || (cfd = open_user_cache(data_dir, user_id)) < 0)
        return;
    snprintf(name, sizeof(name), "%s.%s", key, ext);
    snprintf(tmp, sizeof(tmp), ".%s.%ld", name, (long)getpid());
    /* Write aside, then rename: a reader never links a half-written file. */
    if (write_new(cfd, tmp, data, len) == ROSE_OK && renameat(cfd, tmp, cfd, name) != 0) {
        unlinkat(cfd, tmp, 0);
        rose_logf(ROSE_LOG_WARN, "tts_cache", "cannot store a cached sound: %s", strerror(errno));
    }
    close(cfd);
}

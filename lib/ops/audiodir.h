/*
 * audiodir.h — the audio files under DATA_DIR/audio, as the cron jobs see
 * them.
 *
 * A file is <id>.wav or <id>.mp3 where <id> is a server-made UUID in the
 * lowercase form rose_uuid_new() writes; the row of that id in the audio
 * table is its index.  Only regular files with such names are ever removed.
 * Symbolic links are never followed nor removed (a link could point anywhere,
 * and nothing Rose makes is a link), and nothing else in the folder is
 * touched.  Every name is looked up relative to the folder's descriptor, so a
 * folder swapped for a link after opening cannot redirect us.
 */
#ifndef ROSE_AUDIODIR_H
#define ROSE_AUDIODIR_H

#include "core/err.h"

/*
 * Open DATA_DIR/audio without following a symbolic link.  *dirfd is the
 * descriptor (the caller closes it), or -1 when the folder does not exist
 * (no audio was ever stored).  ROSE_ERR_IO (logged) when it cannot be opened,
 * e.g. because it is a link.
 */
enum rose_err rose_audiodir_open(const char *data_dir, int *dirfd);

/* 1 if id is a server-made audio id (a lowercase UUID), else 0. */
int rose_audiodir_id_valid(const char *id);

/* 1 if name is "<id>.wav" or "<id>.mp3" with a valid id, which is then
 * copied to id; else 0. */
int rose_audiodir_name_id(const char *name, char id[37]);

/* 1 if a regular file (not a link) exists for id under either extension. */
int rose_audiodir_has_file(int dirfd, const char *id);

/*
 * Remove the regular files of id (both extensions; a missing one is not an
 * error) and add their count and sizes to *files and *bytes.  With dry_run,
 * only count.  dirfd -1 (no folder) removes nothing.  id must be valid.
 * ROSE_ERR_IO (logged, with the id) when a file cannot be removed; the
 * counts then include only what was removed.
 */
enum rose_err rose_audiodir_remove(int dirfd, const char *id, int dry_run, long *files,
                                   long long *bytes);

/*
 * Remove name if it is a regular file (a link or anything else is left
 * alone) and add its size to *bytes; with dry_run only count.  *removed is 1
 * when it was (or would be) removed, else 0; a name that does not exist or
 * vanished meanwhile is not an error.  ROSE_ERR_IO (logged) when unlink fails.
 */
enum rose_err rose_audiodir_remove_name(int dirfd, const char *name, int dry_run, int *removed,
                                        long long *bytes);

/*
 * Remove the files of the n audio ids under DATA_DIR/audio (after the
 * transaction that deleted their rows committed).  Invalid ids and missing
 * files are skipped; failures are logged by rose_audiodir_remove().
 */
void rose_audiodir_remove_ids(const char *data_dir, const char (*ids)[37], size_t n);

#endif

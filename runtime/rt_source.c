/* rt_source.c - the file and folder sources: which input file is open, from what position, and
 * what happens to it once it is committed. A `file` source reads one path (or stdin) to its end.
 * A `folder` source takes matching files (fnmatch glob, dotfiles ignored) one at a time in name
 * order; a file is archived (renamed into the archive dir, ".1", ".2", ... on a name clash) or
 * deleted only in prt_source_retire, which the driver calls after the commit that covers the
 * whole file, so a crash never loses or repeats a file. Checkpoint resume: the recorded file is
 * reopened at its offset (when its inode still matches) or, if recorded as finished, retired. */
#include "rt_internal.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *xstrdup(const char *s) {
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) abort();
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static void fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Archives or deletes a finished folder file (or remembers it when neither is configured). */
static int retire_path(prt_source *s, const char *path) {
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    if (s->archive) {
        char *target = join(s->archive, name);
        size_t cap = strlen(target) + 24;
        char *t = malloc(cap);
        if (!t) abort();
        snprintf(t, cap, "%s", target);
        int rc = -1;
        for (unsigned k = 1;; k++) {
            if (renameat2(AT_FDCWD, path, AT_FDCWD, t, RENAME_NOREPLACE) == 0) {
                rc = 0;
                break;
            }
            if (errno == EEXIST) {
                snprintf(t, cap, "%s.%u", target, k);
                continue;
            }
            if (errno == EINVAL || errno == ENOSYS) {   /* no RENAME_NOREPLACE on this fs */
                if (access(t, F_OK) == 0) {
                    snprintf(t, cap, "%s.%u", target, k);
                    continue;
                }
                if (rename(path, t) == 0) {
                    rc = 0;
                    break;
                }
            }
            prt_log_error("source: cannot move %s to %s: %s", path, t, strerror(errno));
            break;
        }
        free(t);
        free(target);
        if (rc) return -1;
        fsync_dir(s->archive);
        fsync_dir(s->path);
        return 0;
    }
    if (s->d->delete_done) {
        if (unlink(path) != 0 && errno != ENOENT) {
            prt_log_error("source: cannot delete %s: %s", path, strerror(errno));
            return -1;
        }
        fsync_dir(s->path);
        return 0;
    }
    if (s->ndone == s->capdone) {   /* once per file, not per record */
        s->capdone = s->capdone ? s->capdone * 2 : 16;
        s->done = realloc(s->done, sizeof *s->done * (size_t)s->capdone);
        if (!s->done) abort();
    }
    s->done[s->ndone++] = xstrdup(name);
    return 0;
}

int prt_source_open(prt_source *s, const prt_source_desc *d, const char *path,
                    const char *archive, const prt_ckpt *ck, size_t chunk) {
    memset(s, 0, sizeof *s);
    s->d = d;
    s->fd = -1;
    s->path = xstrdup(path);
    s->archive = archive && *archive ? xstrdup(archive) : NULL;
    prt_reader_init(&s->rd, d->format == PRT_FMT_CSV, d->delimiter, d->quote, d->max_record, chunk);
    if (d->kind == PRT_SRC_FOLDER) {
        struct stat st;
        if (stat(path, &st) != 0) {
            prt_log_error("source: cannot open folder %s: %s", path, strerror(errno));
            return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
            prt_log_error("source: cannot open folder %s: not a directory", path);
            return -1;
        }
        if (s->archive && prt_mkdir_p(s->archive) != 0) return -1;
    }
    if (!ck || !ck->has_source || strcmp(path, "-") == 0) return 0;
    /* resume from the checkpoint's position */
    struct stat st;
    bool ours = false;
    if (d->kind == PRT_SRC_FILE) {
        ours = strcmp(ck->src_path, path) == 0;
    } else {
        const char *slash = strrchr(ck->src_path, '/');
        ours = slash && (size_t)(slash - ck->src_path) == strlen(path) &&
               memcmp(ck->src_path, path, strlen(path)) == 0;
    }
    if (!ours || stat(ck->src_path, &st) != 0) return 0;
    if ((uint64_t)st.st_ino != ck->src_ino) {
        prt_log_warn("source: %s is not the file the checkpoint recorded (another inode); "
                     "reading it from the start", ck->src_path);
        return 0;
    }
    if (ck->src_finished) {
        if (d->kind == PRT_SRC_FILE) {
            s->ended = true;
            prt_log_info("source: %s was read completely before (checkpoint); nothing to do", path);
            return 0;
        }
        return retire_path(s, ck->src_path);
    }
    s->cur_path = xstrdup(ck->src_path);   /* next_file opens it at the recorded offset */
    s->resume_offset = ck->src_offset;
    s->resume_line = ck->src_line;
    return 0;
}

static bool is_done(const prt_source *s, const char *name) {
    for (int i = 0; i < s->ndone; i++)
        if (strcmp(s->done[i], name) == 0) return true;
    return false;
}

/* The folder's smallest matching name not yet read, malloc'd; NULL when none (or on error). */
static char *pick_file(prt_source *s, bool *err) {
    DIR *dir = opendir(s->path);
    *err = false;
    if (!dir) {
        prt_log_error("source: cannot read folder %s: %s", s->path, strerror(errno));
        *err = true;
        return NULL;
    }
    const char *glob = s->d->glob && *s->d->glob ? s->d->glob : "*";
    char *best = NULL;
    uint64_t waiting = 0;      /* for the metrics: counted by the entry's type, without a stat */
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.' || fnmatch(glob, e->d_name, 0) != 0) continue;
        if (is_done(s, e->d_name)) continue;
        waiting += e->d_type == DT_REG || e->d_type == DT_LNK || e->d_type == DT_UNKNOWN;
        if (best && strcmp(e->d_name, best) >= 0) continue;
        struct stat st;
        if (fstatat(dirfd(dir), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
        free(best);
        best = xstrdup(e->d_name);
    }
    closedir(dir);
    s->waiting = best ? waiting - 1 : 0;
    return best;
}

prt_next_status prt_source_next_file(prt_source *s) {
    if (s->is_open) return PRT_NEXT_FILE;
    if (s->ended) return PRT_NEXT_END;
    uint64_t offset = 0, line = 1;
    for (;;) {
        if (s->cur_path) {   /* resuming */
            offset = s->resume_offset;
            line = s->resume_line ? s->resume_line : 1;
        } else if (s->d->kind == PRT_SRC_FILE) {
            s->cur_path = xstrdup(s->path);
        } else {
            bool err;
            char *name = pick_file(s, &err);
            if (err) return PRT_NEXT_ERROR;
            if (!name) return PRT_NEXT_IDLE;
            s->cur_path = join(s->path, name);
            free(name);
        }
        if (strcmp(s->cur_path, "-") == 0 && s->d->kind == PRT_SRC_FILE) {
            s->fd = 0;
            s->cur_name = "stdin";
            s->cur_ino = 0;
            break;
        }
        s->cur_name = s->cur_path;
        s->fd = open(s->cur_path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (s->fd >= 0 && fstat(s->fd, &st) == 0) {
            s->cur_ino = (uint64_t)st.st_ino;
            break;
        }
        int e = errno;
        if (s->fd >= 0) close(s->fd);
        s->fd = -1;
        if (e == ENOENT && s->d->kind == PRT_SRC_FOLDER) {   /* gone meanwhile: look again */
            free(s->cur_path);
            s->cur_path = NULL;
            s->resume_offset = 0;
            continue;
        }
        prt_log_error("source: cannot open %s: %s", s->cur_path, strerror(e));
        return PRT_NEXT_ERROR;
    }
    s->is_open = true;
    s->finished = false;
    s->header_pending = s->d->format == PRT_FMT_CSV && s->d->header;
    if (s->header_pending && offset > 0) {
        s->resume_offset = offset;   /* read the header at 0 first, then jump */
        s->resume_line = line;
        offset = 0;
        line = 1;
    } else {
        s->resume_offset = 0;
    }
    if (offset > 0 && lseek(s->fd, (off_t)offset, SEEK_SET) < 0) {
        prt_log_error("source: cannot seek in %s: %s", s->cur_path, strerror(errno));
        return PRT_NEXT_ERROR;
    }
    prt_reader_start(&s->rd, s->fd, offset, line);
    return PRT_NEXT_FILE;
}

int prt_source_header_done(prt_source *s) {
    s->header_pending = false;
    if (s->resume_offset == 0) return 0;
    if (lseek(s->fd, (off_t)s->resume_offset, SEEK_SET) < 0) {
        prt_log_error("source: cannot seek in %s: %s", s->cur_path, strerror(errno));
        return -1;
    }
    prt_reader_start(&s->rd, s->fd, s->resume_offset, s->resume_line);
    s->resume_offset = 0;
    return 0;
}

static void close_file(prt_source *s) {
    if (s->fd > 0) close(s->fd);
    s->fd = -1;
    free(s->cur_path);
    s->cur_path = NULL;
    s->cur_name = NULL;
    s->is_open = false;
}

int prt_source_retire(prt_source *s) {
    if (!s->is_open || !s->finished) return 0;
    int rc = 0;
    if (s->d->kind == PRT_SRC_FOLDER) rc = retire_path(s, s->cur_path);
    else s->ended = true;
    close_file(s);
    return rc;
}

void prt_source_close(prt_source *s) {
    close_file(s);
    prt_reader_free(&s->rd);
    for (int i = 0; i < s->ndone; i++) free(s->done[i]);
    free(s->done);
    free(s->path);
    free(s->archive);
    memset(s, 0, sizeof *s);
}

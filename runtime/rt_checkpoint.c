/* rt_checkpoint.c - the checkpoint: its text (prt_ckpt_format / prt_ckpt_parse), stored in the
 * file DIR/checkpoint, replaced atomically (write DIR/checkpoint.tmp, fsync, rename, fsync DIR),
 * so a reader sees the old or the new one, never a mix, and (by the driver, rt_main.c) in each
 * sqlite sink's database; and the window state it names. Format (one item per line, "\n"):
 *
 *   pipec-checkpoint 3                       format version (1 and 2 are still read; a higher
 *                                            one is refused)
 *   pipeline NAME
 *   fingerprint HEX16                        of the record/state layout (prt_pipeline.fingerprint)
 *   seq N                                    (v3) 1, 2, ... one per commit; a state file and every
 *                                            copy of one commit's checkpoint carry the same N
 *   source OFFSET LINE FINISHED INODE PATH   input file position: byte offset after the last
 *                                            committed record, its line number, 1 when the whole
 *                                            file is committed, its inode, the path (to line end)
 *   cdc DONE TXN TAKEN SNAPSHOT              a postgres_cdc source: LSNs as integers (see rt_cdc.c)
 *   kafka PARTITION OFFSET TOPIC             a kafka source: the offset after the last committed
 *                                            message of one partition (TOPIC to line end)
 *   cursor TEXT                              a postgres source: the last committed cursor value
 *   seen HEX16 HEX16 ...                     digests of the rows taken with exactly that value
 *   sink LENGTH NAME                         committed bytes of one file sink (dead_letter too)
 *   publish PATH                             a file a parquet sink makes visible with this commit:
 *                                            renamed from .BASE.tmp in its folder once the
 *                                            checkpoint is durable, again at start if needed
 *   state SEQ LENGTH CRC32 [inline]          (v2) the window state of this commit is the file
 *                                            DIR/state.SEQ: LENGTH bytes whose CRC-32 (IEEE, as
 *                                            zlib's crc32) is CRC32, 8 hex digits. Only pipelines
 *                                            with windows have it. (v3) "inline": the LENGTH
 *                                            bytes follow the end line instead (a run without a
 *                                            checkpoint dir keeps its state in the databases).
 *   finished                                 (v3) the source ended and this was the run's final
 *                                            commit (after the finish hook)
 *   end                                      written last: a text without it is malformed
 *
 * PATH and NAME escape "\" "\n" "\r" as \\ \n \r. Readers ignore lines with unknown keywords,
 * so later versions can add items (per-partition offsets) compatibly.
 *
 * The state file holds exactly the bytes the pipeline's save_state hook produced (no header: the
 * checkpoint's length and CRC are its check). It is written before the checkpoint that names it
 * (DIR/state.SEQ.tmp, fsync, rename, fsync DIR), so a checkpoint never names a state file that
 * is not durable; after the checkpoint file, every other state.N and state.N.tmp is deleted
 * (older ones, and a newer one a crash left behind before its checkpoint was written).
 *
 * Exactly once with sqlite sinks (the driver, rt_main.c, does this):
 * - A commit: (1) file sinks and the dead letter written and fsynced; (2) the state file; (3) for
 *   each sqlite sink, one transaction with its buffered rows and the complete checkpoint text of
 *   this commit, table pipec_checkpoint, key "PIPELINE/SINK" (per sink: two sinks may share a
 *   database); (4) DIR/checkpoint; (5) archive/delete of a finished folder file. Each step
 *   begins only when the one before succeeded, and commit N+1 only when all of commit N did.
 * - Without a checkpoint dir, steps 1, 3 and 5 still happen (the state goes inline): the
 *   databases are the checkpoint store.
 * - Start: read DIR/checkpoint and every sqlite sink's stored text; same pipeline and fingerprint
 *   required (else exit 2). Let N be the highest seq. The file is never ahead of the databases
 *   (written after them), and the databases differ by at most one commit (a crash between two
 *   sinks' transactions). When every sqlite sink is at N (or the file is at N-1 with them at
 *   N), resume from the checkpoint of N: file sinks cut back to its lengths, state N (the file
 *   state.N exists: it was written before step 3), source at its position.
 * - When some sqlite sink is at N-1 (or has none and N = 1): resume from N-1 (or from the
 *   beginning) and CATCH UP: until the source reaches N's position (records of N's file that
 *   start before its line, or the whole file when N says finished), rows for the sinks at N
 *   are dropped and nothing is committed; at that position one commit brings every sink to
 *   N+1. This needs the rows of a replay to equal those of the first pass: true for records
 *   (deterministic decoding); window rows emitted by tick because of the wall clock may differ.
 *   If the input changed (N's file gone or shorter), the catch-up ends with a warning.
 *   A sqlite sink older than N-1 (a database restored from a backup or deleted) is not
 *   replayed for: a warning, and it receives the records from the resume point on.
 * - Without a checkpoint dir, a stored checkpoint whose seq is N and which says "finished" in
 *   every database is not resumed: rerunning a completed bounded job starts from the beginning
 *   (rerun = redo), as without any checkpoint. An unfinished one (a crash or a stop) is resumed.
 */
#include "rt_internal.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

enum { CKPT_VERSION = 3 };

int prt_mkdir_p(const char *dir) {
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0) return 0;
    if (n >= sizeof tmp) {
        prt_log_error("path too long: %s", dir);
        return -1;
    }
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != 0) continue;
        char c = tmp[i];
        tmp[i] = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            prt_log_error("cannot create directory %s: %s", tmp, strerror(errno));
            return -1;
        }
        tmp[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        prt_log_error("cannot create directory %s: %s", dir,
                      errno ? strerror(errno) : "not a directory");
        return -1;
    }
    return 0;
}

static void put_escaped(prt_buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\\') prt_buf_lit(b, "\\\\");
        else if (*s == '\n') prt_buf_lit(b, "\\n");
        else if (*s == '\r') prt_buf_lit(b, "\\r");
        else prt_buf_putc(b, *s);
    }
}

static char *unescape(const char *s, size_t n) {
    char *o = malloc(n + 1), *w = o;
    if (!o) abort();
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            i++;
            *w++ = s[i] == 'n' ? '\n' : s[i] == 'r' ? '\r' : s[i];
        } else {
            *w++ = s[i];
        }
    }
    *w = 0;
    return o;
}

static void put_u64(prt_buf *b, uint64_t v) {
    char t[24];
    int n = snprintf(t, sizeof t, "%" PRIu64, v);
    prt_buf_put(b, t, (size_t)n);
}

/* Decimal digits at *s (at least one, no overflow): advances past them. */
static bool take_u64_str(const char **s, uint64_t *v) {
    const char *p = *s;
    uint64_t x = 0;
    if (*p < '0' || *p > '9') return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (x > (UINT64_MAX - 9) / 10) return false;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *s = p;
    *v = x;
    return true;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes `n` bytes to dir/tmpname, fsyncs, renames to dir/finalname, fsyncs dir. */
static int write_atomic(const char *dir, const char *tmpname, const char *finalname,
                        const char *data, size_t n, const char *label) {
    char tmp[4200], fin[4200];
    snprintf(tmp, sizeof tmp, "%s/%s", dir, tmpname);
    snprintf(fin, sizeof fin, "%s/%s", dir, finalname);
    int rc = -1;
    const char *what = tmp;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) goto out;
    if (write_all(fd, data, n) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        goto out;
    }
    if (close(fd) != 0) goto out;
    what = fin;
    if (rename(tmp, fin) != 0) goto out;
    what = dir;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) goto out;
    if (fsync(dfd) != 0) {
        int e = errno;
        close(dfd);
        errno = e;
        goto out;
    }
    close(dfd);
    rc = 0;
out:
    if (rc) prt_log_error("cannot write %s %s: %s", label, what, strerror(errno));
    return rc;
}

void prt_ckpt_format(const prt_ckpt *c, prt_buf *b) {
    char t[96];
    prt_buf_lit(b, "pipec-checkpoint 3\npipeline ");
    put_escaped(b, c->pipeline ? c->pipeline : "");
    int n = snprintf(t, sizeof t, "\nfingerprint %016" PRIx64 "\nseq %" PRIu64 "\n",
                     c->fingerprint, c->seq);
    prt_buf_put(b, t, (size_t)n);
    if (c->has_source) {
        prt_buf_lit(b, "source ");
        put_u64(b, c->src_offset);
        prt_buf_putc(b, ' ');
        put_u64(b, c->src_line);
        prt_buf_putc(b, ' ');
        prt_buf_putc(b, c->src_finished ? '1' : '0');
        prt_buf_putc(b, ' ');
        put_u64(b, c->src_ino);
        prt_buf_putc(b, ' ');
        put_escaped(b, c->src_path ? c->src_path : "");
        prt_buf_putc(b, '\n');
    }
    if (c->has_cdc) {
        n = snprintf(t, sizeof t, "cdc %" PRIu64 " %" PRIu64 " %" PRIu64 " %d\n", c->cdc_done, c->cdc_txn,
                     c->cdc_taken, c->cdc_snapshot ? 1 : 0);
        prt_buf_put(b, t, (size_t)n);
    }
    for (int i = 0; i < c->nkafka; i++) {
        n = snprintf(t, sizeof t, "kafka %" PRId32 " %" PRId64 " ", c->kafka[i].partition, c->kafka[i].offset);
        prt_buf_put(b, t, (size_t)n);
        put_escaped(b, c->kafka[i].topic);
        prt_buf_putc(b, '\n');
    }
    if (c->has_cursor) {
        prt_buf_lit(b, "cursor ");
        put_escaped(b, c->cursor ? c->cursor : "");
        prt_buf_putc(b, '\n');
        if (c->nseen) {
            prt_buf_lit(b, "seen");
            for (int i = 0; i < c->nseen; i++) {
                n = snprintf(t, sizeof t, " %016" PRIx64, c->seen[i]);
                prt_buf_put(b, t, (size_t)n);
            }
            prt_buf_putc(b, '\n');
        }
    }
    for (int i = 0; i < c->nsinks; i++) {
        prt_buf_lit(b, "sink ");
        put_u64(b, c->sinks[i].len);
        prt_buf_putc(b, ' ');
        put_escaped(b, c->sinks[i].name);
        prt_buf_putc(b, '\n');
    }
    for (int i = 0; i < c->npublish; i++) {
        prt_buf_lit(b, "publish ");
        put_escaped(b, c->publish[i]);
        prt_buf_putc(b, '\n');
    }
    if (c->has_state) {
        n = snprintf(t, sizeof t, "state %" PRIu64 " %" PRIu64 " %08" PRIx32 "%s\n", c->state_seq,
                     c->state_len, c->state_crc, c->state_inline ? " inline" : "");
        prt_buf_put(b, t, (size_t)n);
    }
    if (c->run_finished) prt_buf_lit(b, "finished\n");
    prt_buf_lit(b, "end\n");
    if (c->has_state && c->state_inline && c->state_len)
        prt_buf_put(b, c->state_data, (size_t)c->state_len);
}

int prt_ckpt_write(const char *dir, const prt_ckpt *c) {
    prt_buf b = {0};
    prt_ckpt_format(c, &b);
    int rc = write_atomic(dir, "checkpoint.tmp", "checkpoint", b.data, b.len, "checkpoint");
    prt_buf_free(&b);
    return rc;
}

/* ---- the state file --------------------------------------------------------------------------- */

uint32_t prt_crc32(const void *pv, size_t n) {
    static uint32_t table[256];
    static bool ready;
    if (!ready) {   /* the runtime is single-threaded */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = true;
    }
    const unsigned char *p = pv;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

int prt_state_file_write(const char *dir, uint64_t seq, const char *p, size_t n) {
    char tmpname[64], name[64];
    snprintf(tmpname, sizeof tmpname, "state.%" PRIu64 ".tmp", seq);
    snprintf(name, sizeof name, "state.%" PRIu64, seq);
    return write_atomic(dir, tmpname, name, p, n, "window state");
}

int prt_state_file_read(const char *dir, const prt_ckpt *c, prt_buf *out) {
    char path[4200];
    snprintf(path, sizeof path, "%s/state.%" PRIu64, dir, c->state_seq);
    out->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        prt_log_error("cannot read window state %s named by the checkpoint: %s; the open windows "
                      "cannot be restored (remove the checkpoint directory to start over)", path,
                      strerror(errno));
        return -1;
    }
    for (;;) {
        prt_buf_reserve(out, 65536);
        ssize_t got = read(fd, out->data + out->len, out->cap - out->len);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            prt_log_error("cannot read window state %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (got == 0) break;
        out->len += (size_t)got;
    }
    close(fd);
    if (out->len != c->state_len) {
        prt_log_error("window state %s is corrupt: %zu bytes, the checkpoint says %" PRIu64
                      "; the open windows cannot be restored (remove the checkpoint directory to "
                      "start over)", path, out->len, c->state_len);
        return -1;
    }
    uint32_t crc = prt_crc32(out->data, out->len);
    if (crc != c->state_crc) {
        prt_log_error("window state %s is corrupt: CRC-32 %08" PRIx32 ", the checkpoint says %08"
                      PRIx32 "; the open windows cannot be restored (remove the checkpoint "
                      "directory to start over)", path, crc, c->state_crc);
        return -1;
    }
    return 0;
}

/* "state.N" or "state.N.tmp" with N decimal digits: *seq = N. */
static bool state_name(const char *s, uint64_t *seq, bool *tmp) {
    if (strncmp(s, "state.", 6) != 0) return false;
    const char *p = s + 6;
    if (!take_u64_str(&p, seq)) return false;
    *tmp = strcmp(p, ".tmp") == 0;
    return *p == 0 || *tmp;
}

void prt_state_file_cleanup(const char *dir, uint64_t keep_seq, bool keep) {
    DIR *dh = opendir(dir);
    if (!dh) {
        prt_log_warn("cannot list %s to remove old window state: %s", dir, strerror(errno));
        return;
    }
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        uint64_t seq;
        bool tmp;
        if (!state_name(de->d_name, &seq, &tmp)) continue;
        if (keep && !tmp && seq == keep_seq) continue;
        if (unlinkat(dirfd(dh), de->d_name, 0) != 0 && errno != ENOENT)
            prt_log_warn("cannot remove old window state %s/%s: %s", dir, de->d_name,
                         strerror(errno));
    }
    closedir(dh);
}

void prt_ckpt_free(prt_ckpt *c) {
    free(c->pipeline);
    free(c->src_path);
    free(c->state_data);
    free(c->cursor);
    free(c->seen);
    for (int i = 0; i < c->nkafka; i++) free(c->kafka[i].topic);
    free(c->kafka);
    for (int i = 0; i < c->nsinks; i++) free(c->sinks[i].name);
    free(c->sinks);
    for (int i = 0; i < c->npublish; i++) free(c->publish[i]);
    free(c->publish);
    memset(c, 0, sizeof *c);
}

const prt_ckpt_sink *prt_ckpt_find_sink(const prt_ckpt *c, const char *name) {
    for (int i = 0; c && i < c->nsinks; i++)
        if (strcmp(c->sinks[i].name, name) == 0) return &c->sinks[i];
    return NULL;
}

/* Parses "N " at *s (decimal unsigned), advancing past one space. */
static bool take_u64(const char **s, const char *end, uint64_t *v) {
    const char *p = *s;
    if (p >= end || *p < '0' || *p > '9') return false;
    uint64_t x = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (x > (UINT64_MAX - 9) / 10) return false;
        x = x * 10 + (uint64_t)(*p++ - '0');
    }
    if (p < end && *p != ' ') return false;
    if (p < end) p++;
    *s = p;
    *v = x;
    return true;
}

static bool parse_hex(const char *p, const char *end, uint64_t *v) {
    uint64_t x = 0;
    if (p == end || end - p > 16) return false;
    for (; p < end; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
              : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;
        if (d < 0) return false;
        x = x << 4 | (uint64_t)d;
    }
    *v = x;
    return true;
}

static bool kw(const char *p, const char *end, const char *word, const char **rest) {
    size_t n = strlen(word);
    if ((size_t)(end - p) < n || memcmp(p, word, n) != 0) return false;
    if (p + n == end) {
        *rest = end;
        return true;
    }
    if (p[n] != ' ') return false;
    *rest = p + n + 1;
    return true;
}

int prt_ckpt_parse(const char *text, size_t len, prt_ckpt *c, const char *what) {
    memset(c, 0, sizeof *c);
    if (!text) text = "";
    const char *why = "no 'end' line (truncated?)";
    bool ended = false;
    int lineno = 0;
    const char *s = text, *eod = text + len;
    while (s < eod && !ended) {
        const char *e = memchr(s, '\n', (size_t)(eod - s));
        if (!e) break;   /* an unterminated last line: malformed */
        lineno++;
        const char *r;
        uint64_t v, off, line, fin, ino;
        if (lineno == 1) {
            if (!kw(s, e, "pipec-checkpoint", &r) || !take_u64(&r, e, &v) || r != e) {
                why = "not a pipec checkpoint";
                goto bad;
            }
            if (v < 1 || v > CKPT_VERSION) {
                why = "unsupported checkpoint format version";
                goto bad;
            }
        } else if (kw(s, e, "pipeline", &r)) {
            free(c->pipeline);
            c->pipeline = unescape(r, (size_t)(e - r));
        } else if (kw(s, e, "fingerprint", &r)) {
            if (!parse_hex(r, e, &c->fingerprint)) { why = "bad fingerprint line"; goto bad; }
        } else if (kw(s, e, "source", &r)) {
            if (!take_u64(&r, e, &off) || !take_u64(&r, e, &line) || !take_u64(&r, e, &fin) ||
                fin > 1 || !take_u64(&r, e, &ino)) {
                why = "bad source line";
                goto bad;
            }
            free(c->src_path);
            c->src_path = unescape(r, (size_t)(e - r));
            c->has_source = true;
            c->src_offset = off;
            c->src_line = line;
            c->src_finished = fin == 1;
            c->src_ino = ino;
        } else if (kw(s, e, "sink", &r)) {
            if (!take_u64(&r, e, &v) || r == e) { why = "bad sink line"; goto bad; }
            prt_ckpt_sink *ns = realloc(c->sinks, sizeof *ns * (size_t)(c->nsinks + 1));
            if (!ns) abort();
            c->sinks = ns;
            ns[c->nsinks].name = unescape(r, (size_t)(e - r));
            ns[c->nsinks].len = v;
            c->nsinks++;
        } else if (kw(s, e, "state", &r)) {
            uint64_t seq, slen, crc;
            if (!take_u64(&r, e, &seq) || !take_u64(&r, e, &slen) || r == e) {
                why = "bad state line";
                goto bad;
            }
            const char *ce = memchr(r, ' ', (size_t)(e - r));
            bool inl = ce && (size_t)(e - ce) == 7 && memcmp(ce, " inline", 7) == 0;
            if ((ce && !inl) || !parse_hex(r, ce ? ce : e, &crc) || crc > UINT32_MAX) {
                why = "bad state line";
                goto bad;
            }
            c->has_state = true;
            c->state_seq = seq;
            c->state_len = slen;
            c->state_crc = (uint32_t)crc;
            c->state_inline = inl;
        } else if (kw(s, e, "cdc", &r)) {
            uint64_t snap;
            if (!take_u64(&r, e, &c->cdc_done) || !take_u64(&r, e, &c->cdc_txn) || !take_u64(&r, e, &c->cdc_taken) ||
                !take_u64(&r, e, &snap) || r != e || snap > 1) {
                why = "bad cdc line";
                goto bad;
            }
            c->has_cdc = true;
            c->cdc_snapshot = snap == 1;
        } else if (kw(s, e, "kafka", &r)) {
            uint64_t part, koff;
            if (!take_u64(&r, e, &part) || !take_u64(&r, e, &koff) || r >= e || part > INT32_MAX || koff > INT64_MAX) {
                why = "bad kafka line";
                goto bad;
            }
            prt_ckpt_kafka *nk = realloc(c->kafka, sizeof *nk * (size_t)(c->nkafka + 1));
            if (!nk) abort();
            c->kafka = nk;
            c->kafka[c->nkafka++] = (prt_ckpt_kafka){unescape(r, (size_t)(e - r)), (int32_t)part, (int64_t)koff};
        } else if (kw(s, e, "publish", &r)) {
            if (r >= e) { why = "bad publish line"; goto bad; }
            char **np = realloc(c->publish, sizeof *np * (size_t)(c->npublish + 1));
            if (!np) abort();
            c->publish = np;
            c->publish[c->npublish++] = unescape(r, (size_t)(e - r));
        } else if (kw(s, e, "cursor", &r)) {
            free(c->cursor);
            c->cursor = unescape(r, (size_t)(e - r));
            c->has_cursor = true;
        } else if (kw(s, e, "seen", &r)) {
            while (r < e) {
                const char *w = memchr(r, ' ', (size_t)(e - r));
                if (!w) w = e;
                uint64_t h;
                if (!parse_hex(r, w, &h)) { why = "bad seen line"; goto bad; }
                uint64_t *ns = realloc(c->seen, sizeof *ns * (size_t)(c->nseen + 1));
                if (!ns) abort();
                c->seen = ns;
                c->seen[c->nseen++] = h;
                r = w < e ? w + 1 : e;
            }
        } else if (kw(s, e, "seq", &r)) {
            if (!take_u64(&r, e, &v) || r != e) { why = "bad seq line"; goto bad; }
            c->seq = v;
        } else if (kw(s, e, "finished", &r) && r == e) {
            c->run_finished = true;
        } else if (kw(s, e, "end", &r) && r == e) {
            ended = true;
        }   /* anything else: an item of a later version, ignored */
        s = e + 1;
    }
    if (!ended) goto bad;
    if (c->state_inline) {   /* the state bytes follow the end line, exactly */
        if ((uint64_t)(eod - s) != c->state_len) { why = "inline window state has the wrong length"; goto bad; }
        if (prt_crc32(s, (size_t)c->state_len) != c->state_crc) { why = "inline window state fails its CRC"; goto bad; }
        c->state_data = malloc(c->state_len ? (size_t)c->state_len : 1);
        if (!c->state_data) abort();
        if (c->state_len) memcpy(c->state_data, s, (size_t)c->state_len);
    }
    return 1;
bad:
    prt_log_error("malformed checkpoint %s: %s", what, why);
    prt_ckpt_free(c);
    return -1;
}

int prt_ckpt_read(const char *dir, prt_ckpt *c) {
    memset(c, 0, sizeof *c);
    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        prt_log_error("cannot read checkpoint %s: %s", path, strerror(errno));
        return -1;
    }
    prt_buf b = {0};
    for (;;) {
        prt_buf_reserve(&b, 4096);
        ssize_t got = read(fd, b.data + b.len, b.cap - b.len);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            prt_log_error("cannot read checkpoint %s: %s", path, strerror(errno));
            close(fd);
            prt_buf_free(&b);
            return -1;
        }
        if (got == 0) break;
        b.len += (size_t)got;
    }
    close(fd);
    int r = prt_ckpt_parse(b.data, b.len, c, path);
    prt_buf_free(&b);
    return r;
}

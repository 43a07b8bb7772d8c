/*
 * mockbroker.c - a Kafka broker for the tests, on a machine where no real Kafka can be installed.
 *
 * It hosts librdkafka's mock cluster (rdkafka_mock.h), which speaks the Kafka protocol over TCP
 * on 127.0.0.1, so that the pipelines under test, kcat and confluent_kafka connect to it as to
 * a real cluster. Everything is in memory and gone when the program ends. tests/kafkaserver.py
 * builds and runs it; see there for what the mock does and does not do.
 *
 *   mockbroker [--brokers N] [--topic NAME:PARTITIONS]... --bootstrap-file PATH [--exit-on-eof]
 *              [--retention-bytes N[K|M|G]] [--retention-batches M]
 *
 * At start-up it creates the cluster of N brokers (default 1) and the topics given (replication
 * factor 1), then writes the bootstrap server list ("127.0.0.1:P1,127.0.0.1:P2\n") to PATH
 * atomically (a temp file renamed over it), so a reader sees the whole line or no file. It then
 * serves until SIGTERM or SIGINT, destroys the cluster, then its rd_kafka handle, and exits 0.
 *
 * The mock has no CreateTopics (admin API): topics are created with a line protocol on stdin,
 * one answer line on stdout for each command line:
 *   topic NAME PARTITIONS   ->  "ok", or "error <reason>" (e.g. the topic exists)
 *   down ID / up ID         ->  "ok": broker ID (1..N) drops its connections and refuses new
 *                               ones / serves again, its data kept (tests/suite_faults.py)
 *   ping                    ->  "ok"
 * End of stdin ends the commands; the broker keeps serving, unless --exit-on-eof is given, in
 * which case end of stdin stops it as SIGTERM does (a harness that dies takes its broker along).
 *
 * Retention: the mock keeps at most 5 MiB of record batches and 100000 batches per partition
 * and silently drops the oldest beyond that (the log start offset moves up): about 47000
 * records of 100 bytes. No property or API changes that in librdkafka 2.0.2: partition
 * creation (rd_kafka_mock_topic_new) copies both limits from one 16-byte constant in the
 * library's read-only data. --retention-bytes N and --retention-batches M (defaults 5 MiB and
 * 10000000 when only the other is given) overwrite that constant in this process's own
 * copy-on-write mapping of librdkafka, before the cluster exists, so every partition of this
 * broker (created or auto-created) gets N and M.
 * It is a patch of librdkafka's internals: it is applied only when the constant's 16 bytes
 * occur exactly once in librdkafka's read-only segments, else the broker exits with status 3
 * and says why (run it without the option and live with 5 MiB).
 *
 * Errors: one line on stderr, exit status 1 (3: the retention cannot be raised).
 */
#include <errno.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 256
#define LINE_MAX_LEN 1024

struct topic_arg {
    char *name;
    int partitions;
};

static void usage(void) {
    fprintf(stderr, "usage: mockbroker [--brokers N] [--topic NAME:PARTITIONS]... "
                    "--bootstrap-file PATH [--exit-on-eof]\n"
                    "                  [--retention-bytes N[K|M|G]] [--retention-batches M]\n");
}

/* Parses a positive int no greater than max; returns -1 when s is not one. */
static int parse_count(const char *s, int max) {
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > max) return -1;
    return (int)v;
}

/* Writes "text\n" to path through a temp file in the same directory, renamed over path. */
static int write_atomic(const char *path, const char *text) {
    char tmp[4096];
    FILE *f;
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        fprintf(stderr, "mockbroker: bootstrap file path too long: %s\n", path);
        return -1;
    }
    if (!(f = fopen(tmp, "w"))) {
        fprintf(stderr, "mockbroker: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    if (fprintf(f, "%s\n", text) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fprintf(stderr, "mockbroker: cannot write %s: %s\n", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        return -1;
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "mockbroker: cannot write %s: %s\n", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "mockbroker: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* A valid Kafka topic name: 1..249 of [a-zA-Z0-9._-]. */
static int valid_topic(const char *name) {
    size_t n = strlen(name);
    if (n < 1 || n > 249) return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* The mock partition's default {max_size, max_cnt} (two size_t, in this order). */
static const size_t retention_default[2] = {5 * 1024 * 1024, 100000};

struct retention_search {
    unsigned char *hit;
    int hits;
    int found_lib;
};

/* Counts the occurrences of retention_default in librdkafka's read-only, non-executable
 * loaded segments, remembering the last. */
static int retention_find(struct dl_phdr_info *info, size_t size, void *arg) {
    struct retention_search *rs = arg;
    (void)size;
    if (!info->dlpi_name || !strstr(info->dlpi_name, "librdkafka.so")) return 0;
    rs->found_lib = 1;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (ph->p_flags & (PF_W | PF_X)) || !(ph->p_flags & PF_R))
            continue;
        unsigned char *seg = (unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        size_t n = ph->p_memsz;
        for (size_t off = 0; off + sizeof retention_default <= n; off += sizeof(size_t)) {
            if (!memcmp(seg + off, retention_default, sizeof retention_default)) {
                rs->hit = seg + off;
                rs->hits++;
            }
        }
    }
    return 0;
}

/* Replaces the mock partition's default retention limits; 0 or a message on stderr. */
static int raise_retention(size_t max_bytes, size_t max_batches) {
    struct retention_search rs = {NULL, 0, 0};
    size_t value[2] = {max_bytes, max_batches};
    long page = sysconf(_SC_PAGESIZE);
    dl_iterate_phdr(retention_find, &rs);
    if (!rs.found_lib || rs.hits != 1) {
        fprintf(stderr,
                "mockbroker: cannot raise the retention in librdkafka %s: its default "
                "{5 MiB, 100000} found %d times in the loaded library, not once\n",
                rd_kafka_version_str(), rs.found_lib ? rs.hits : 0);
        return -1;
    }
    uintptr_t start = (uintptr_t)rs.hit & ~(uintptr_t)(page - 1);
    uintptr_t end =
        ((uintptr_t)rs.hit + sizeof value + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
    if (mprotect((void *)start, end - start, PROT_READ | PROT_WRITE) != 0) {
        fprintf(stderr, "mockbroker: cannot raise the retention: mprotect: %s\n", strerror(errno));
        return -1;
    }
    memcpy(rs.hit, value, sizeof value);
    mprotect((void *)start, end - start, PROT_READ);
    return 0;
}

/* Parses a size with an optional K, M or G suffix (binary); 0 when s is not one. */
static size_t parse_size(const char *s) {
    char *end;
    unsigned long long v;
    if (*s < '0' || *s > '9') return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno) return 0;
    int shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
    if (shift) end++;
    if (v > (1ULL << 40) >> shift) return 0;
    v <<= shift;
    if (*end || v == 0 || v > (1ULL << 40)) return 0;
    return (size_t)v;
}

static rd_kafka_resp_err_t create_topic(rd_kafka_mock_cluster_t *mc, const char *name,
                                        int partitions) {
    return rd_kafka_mock_topic_create(mc, name, partitions, 1);
}

/* Answers one command line on stdout. */
static void command(rd_kafka_mock_cluster_t *mc, char *line) {
    char *words[4];
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(line, " \t\r", &save); w && n < 4; w = strtok_r(NULL, " \t\r", &save))
        words[n++] = w;
    if (n == 0) {
        printf("error empty command\n");
    } else if (n == 1 && !strcmp(words[0], "ping")) {
        printf("ok\n");
    } else if (n == 3 && !strcmp(words[0], "topic")) {
        int p = parse_count(words[2], 100000);
        rd_kafka_resp_err_t err;
        if (!valid_topic(words[1]))
            printf("error invalid topic name\n");
        else if (p < 0)
            printf("error invalid partition count\n");
        else if ((err = create_topic(mc, words[1], p)))
            printf("error %s\n", rd_kafka_err2str(err));
        else
            printf("ok\n");
    } else if (n == 2 && (!strcmp(words[0], "down") || !strcmp(words[0], "up"))) {
        int id = parse_count(words[1], 1000);
        rd_kafka_resp_err_t err = id < 1 ? RD_KAFKA_RESP_ERR__INVALID_ARG
            : !strcmp(words[0], "down") ? rd_kafka_mock_broker_set_down(mc, id)
                                        : rd_kafka_mock_broker_set_up(mc, id);
        if (err)
            printf("error %s\n", rd_kafka_err2str(err));
        else
            printf("ok\n");
    } else {
        printf("error unknown command (expected: topic NAME PARTITIONS, down ID, up ID, ping)\n");
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    int brokers = 1, ntopics = 0, exit_on_eof = 0;
    size_t retention_bytes = retention_default[0], retention_batches = 10000000;
    int patch_retention = 0;
    struct topic_arg topics[MAX_TOPICS];
    const char *bootstrap_file = NULL;
    char errstr[512];
    sigset_t sigs;
    int sfd;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--exit-on-eof")) {
            exit_on_eof = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return 0;
        }
        if (i + 1 >= argc ||
            (strcmp(a, "--brokers") && strcmp(a, "--topic") && strcmp(a, "--bootstrap-file") &&
             strcmp(a, "--retention-bytes") && strcmp(a, "--retention-batches"))) {
            fprintf(stderr, "mockbroker: unknown or incomplete option %s (try --help)\n", a);
            return 1;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--brokers")) {
            if ((brokers = parse_count(v, 64)) < 0) {
                fprintf(stderr, "mockbroker: --brokers wants 1..64, not %s\n", v);
                return 1;
            }
        } else if (!strcmp(a, "--retention-bytes") || !strcmp(a, "--retention-batches")) {
            size_t n = parse_size(v);
            if (!n) {
                fprintf(stderr, "mockbroker: %s wants a positive size, not %s\n", a, v);
                return 1;
            }
            if (!strcmp(a, "--retention-bytes"))
                retention_bytes = n;
            else
                retention_batches = n;
            patch_retention = 1;
        } else if (!strcmp(a, "--bootstrap-file")) {
            bootstrap_file = v;
        } else {
            const char *colon = strrchr(v, ':');
            if (ntopics == MAX_TOPICS) {
                fprintf(stderr, "mockbroker: more than %d --topic\n", MAX_TOPICS);
                return 1;
            }
            if (!colon || parse_count(colon + 1, 100000) < 0) {
                fprintf(stderr, "mockbroker: --topic wants NAME:PARTITIONS, not %s\n", v);
                return 1;
            }
            topics[ntopics].name = strndup(v, (size_t)(colon - v));
            topics[ntopics].partitions = parse_count(colon + 1, 100000);
            if (!topics[ntopics].name || !valid_topic(topics[ntopics].name)) {
                fprintf(stderr, "mockbroker: invalid topic name in %s\n", v);
                return 1;
            }
            ntopics++;
        }
    }
    if (!bootstrap_file) {
        fprintf(stderr, "mockbroker: --bootstrap-file PATH is required (try --help)\n");
        return 1;
    }

    if (patch_retention && raise_retention(retention_bytes, retention_batches) != 0) return 3;

    /* SIGTERM and SIGINT are read from a signalfd; blocked before librdkafka starts its
     * threads, so they inherit the mask and none of them takes the signal. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    if (sigprocmask(SIG_BLOCK, &sigs, NULL) != 0 || (sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
        fprintf(stderr, "mockbroker: cannot set up signals: %s\n", strerror(errno));
        return 1;
    }

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* log_level 4: warnings and errors, not the notice that this handle has no
     * bootstrap.servers (it hosts the cluster, it does not connect to one). */
    if (rd_kafka_conf_set(conf, "client.id", "pipec-mockbroker", errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "mockbroker: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "mockbroker: cannot create the rd_kafka handle: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "mockbroker: cannot create the mock cluster of %d brokers\n", brokers);
        rd_kafka_destroy(rk);
        return 1;
    }

    int status = 0;
    for (int i = 0; i < ntopics && status == 0; i++) {
        rd_kafka_resp_err_t err = create_topic(mc, topics[i].name, topics[i].partitions);
        if (err) {
            fprintf(stderr, "mockbroker: cannot create topic %s: %s\n", topics[i].name,
                    rd_kafka_err2str(err));
            status = 1;
        }
    }
    if (status == 0 && write_atomic(bootstrap_file, rd_kafka_mock_cluster_bootstraps(mc)) != 0)
        status = 1;

    /* Serve: commands on stdin until EOF, until SIGTERM/SIGINT. */
    char line[LINE_MAX_LEN];
    size_t len = 0;
    int stdin_open = 1, skipping = 0;
    while (status == 0) {
        struct pollfd fds[2] = {{.fd = sfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
        if (poll(fds, stdin_open ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "mockbroker: poll: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (fds[0].revents) break;
        if (!stdin_open || !fds[1].revents) continue;
        ssize_t r = read(0, line + len, sizeof line - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            stdin_open = 0;
            if (exit_on_eof) break;
            continue;
        }
        len += (size_t)r;
        char *start = line, *nl;
        while ((nl = memchr(start, '\n', len - (size_t)(start - line)))) {
            *nl = '\0';
            if (skipping)
                skipping = 0;
            else
                command(mc, start);
            start = nl + 1;
        }
        len -= (size_t)(start - line);
        memmove(line, start, len);
        if (len == sizeof line - 1) { /* a line too long: answer it once, drop the rest */
            if (!skipping) {
                printf("error line too long\n");
                fflush(stdout);
            }
            skipping = 1;
            len = 0;
        }
    }

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    for (int i = 0; i < ntopics; i++)
        free(topics[i].name);
    close(sfd);
    return status;
}

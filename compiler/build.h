/* build.h - pass 5: compiles a generated C file against the runtime into a pipeline binary, and
 * finds pipec's own installation (templates, runtime headers and library). */
#ifndef PIPEC_BUILD_H
#define PIPEC_BUILD_H
#include <stdbool.h>
#include <stddef.h>

typedef struct BuildOptions {
    const char *c_file;      /* the generated source */
    const char *output;      /* the binary to write */
    bool sanitize;           /* ASan + UBSan, against the sanitizer build of the runtime */
    const char *depfile;     /* write a make dependency file here, or NULL */
    const char *spec_file;   /* for the dependency file */
    bool postgres;           /* the pipeline uses PostgreSQL: link libpq */
    bool kafka;              /* the pipeline reads Kafka: link librdkafka */
    bool metrics;            /* a metrics endpoint: link libmicrohttpd */
    bool parquet;            /* the pipeline has a parquet sink: link libzstd and libsnappy */
    bool http;               /* the pipeline polls an http source: link libcurl */
} BuildOptions;

/* The directory holding templates/, runtime/ and build/: $PIPEC_HOME, else the parent of the
 * directory of the running pipec executable. */
const char *pipec_home(void);
/* The -l flags a pipeline binary links with, from o's postgres/kafka/metrics/parquet (the facts
 * `pipec gen`'s Dockerfile turns into runtime packages); returns how many. */
#define BUILD_MAX_LIBS 16
int build_link_libs(const BuildOptions *o, const char *libs[BUILD_MAX_LIBS]);
/* Runs the C compiler (cc, or $CC). Reports failures through diag. */
bool build_binary(const BuildOptions *o);
/* Writes `len` bytes to `path` atomically (temp file + rename); reports errors through diag. */
bool write_file_atomic(const char *path, const char *data, size_t len);

#endif

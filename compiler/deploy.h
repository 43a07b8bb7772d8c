/* deploy.h - the deploy files `pipec gen SPEC -o DIR` writes beside the C program: the DDL of the
 * tables a run creates (gen_ddl.c), a Dockerfile (gen_docker.c) and a Grafana dashboard
 * (gen_grafana.c). Every file is byte-reproducible (no dates, no absolute paths beyond what the
 * user passed); each function writes its files into dir and reports errors through diag. */
#ifndef PIPEC_DEPLOY_H
#define PIPEC_DEPLOY_H
#include <stdbool.h>
#include "arena.h"
#include "build.h"
#include "plan.h"

/* NAME.postgres.sql and NAME.sqlite.sql, each only when the pipeline has such tables (a stale one
 * of an earlier run is removed). */
bool gen_ddl(Arena *a, const Ir *ir, const char *dir);
/* Dockerfile; `link` holds the facts the binary's link flags come from (build_link_libs). */
bool gen_dockerfile(Arena *a, const Ir *ir, const BuildOptions *link, const char *dir);
/* NAME.dashboard.json, only for a pipeline with a metrics endpoint (else a stale one is removed). */
bool gen_grafana(Arena *a, const Ir *ir, const char *dir);
/* Removes a deploy file of an earlier run that this spec no longer makes (gen_ddl.c). */
bool remove_stale(const char *path);

#endif

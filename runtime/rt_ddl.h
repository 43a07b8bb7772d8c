/* rt_ddl.h - the CREATE TABLE text of every table the runtime makes: a database sink's table
 * (PostgreSQL and SQLite), the dead-letter table, and the bookkeeping tables (pipec_checkpoint,
 * pipec_kafka_offsets). One implementation for both users: the runtime runs these statements
 * (rt_postgres.c, rt_sqlite.c), and `pipec gen` writes them into NAME.postgres.sql and
 * NAME.sqlite.sql (compiler/gen_ddl.c), so the DDL a user applies by hand is exactly what a run
 * would have created. */
#ifndef PIPEC_RT_DDL_H
#define PIPEC_RT_DDL_H
#include "pipec_rt.h"

/* The six columns of a dead-letter table (and the keys of a dead-letter JSON object), in order,
 * with their types. */
#define PRT_DEAD_NCOLUMNS 6
extern const char *const prt_dead_columns[PRT_DEAD_NCOLUMNS];
extern const prt_col_type prt_dead_types[PRT_DEAD_NCOLUMNS];
/* A dead letter's table: `d` (a configured PostgreSQL dead letter) given the six columns, insert
 * mode and no key. */
void prt_ddl_dead_letter_desc(prt_sink_desc *d);

/* CREATE TABLE IF NOT EXISTS for d->table (PostgreSQL: "schema"."t" when it has a dot), one
 * column per d->columns with its type (text without d->column_types), and for d->nkey > 0 a
 * PRIMARY KEY (PostgreSQL: UNIQUE NULLS NOT DISTINCT when d->key_nullable). Appended to b, no
 * semicolon. */
void prt_ddl_pg_table(prt_buf *b, const prt_sink_desc *d);
void prt_ddl_sqlite_table(prt_buf *b, const prt_sink_desc *d);
/* A column type's PostgreSQL name ("double precision", "timestamptz", ...). */
const char *prt_ddl_pg_type(prt_col_type t);

/* The bookkeeping tables, complete statements without a semicolon: the checkpoint of PostgreSQL
 * sinks (on each sink's server), the partition offsets of instances sharing a kafka group, and
 * the checkpoint of SQLite sinks (in each sink's database). */
extern const char prt_ddl_pg_checkpoint[];
extern const char prt_ddl_pg_kafka_offsets[];
extern const char prt_ddl_sqlite_checkpoint[];

#endif

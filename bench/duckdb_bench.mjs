#!/usr/bin/env node
// duckdb_bench.mjs - the DuckDB contender of bench/run.py: runs the SQL statements of FILE in one
// in-memory DuckDB (npm @duckdb/node-api, installed in tests/oracle/node_modules by `make deps`)
// on one thread, and times the last statement alone.
//
//   node bench/duckdb_bench.mjs FILE.sql
//
// Every statement but the last is setup (SET threads = 1 and the like) and is not timed. The last
// statement (the benchmark query, usually COPY (SELECT ...) TO 'file') is timed from inside node:
// wall time (performance.now) and the CPU time of this process (process.cpuUsage, user and
// system) over that statement alone. Prints one JSON object on stdout:
//   {"rows": N, "query_s": s, "query_user_s": s, "query_sys_s": s, "startup_s": s, "version": v}
// rows is the first value of the last statement's first row (the row count of a COPY), startup_s
// the time from the start of the node process to the start of the timed statement (node, module
// loading, DuckDB instance, setup). The whole process is timed by run.py from outside.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(HERE, '..', 'tests', 'oracle', 'package.json'));
let duckdb;
try {
  duckdb = require('@duckdb/node-api');
} catch (e) {
  process.stderr.write('duckdb_bench.mjs: @duckdb/node-api is not installed in tests/oracle ' +
                       '(run make deps or tests/oracle/install.sh): ' + e.message + '\n');
  process.exit(1);
}
const { DuckDBInstance } = duckdb;

if (process.argv.length !== 3) {
  process.stderr.write('usage: node bench/duckdb_bench.mjs FILE.sql\n');
  process.exit(2);
}
const sql = fs.readFileSync(process.argv[2], 'utf8');

function plain(v) {
  return typeof v === 'bigint' ? Number(v) : v;
}

try {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '1',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  await conn.run("SET TimeZone = 'UTC'");
  const stmts = await conn.extractStatements(sql);
  if (stmts.count === 0) throw new Error('no SQL statement in ' + process.argv[2]);
  for (let i = 0; i < stmts.count - 1; i++) {
    const prepared = await stmts.prepare(i);
    await prepared.runAndReadAll();
  }
  const threads = (await (await conn.runAndReadAll("SELECT current_setting('threads')")).getRows())[0][0];
  if (Number(threads) !== 1) throw new Error('DuckDB threads = ' + threads + ', not 1');
  const version = (await (await conn.runAndReadAll('SELECT version()')).getRows())[0][0];

  const prepared = await stmts.prepare(stmts.count - 1);
  const startup = performance.now() / 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const reader = await prepared.runAndReadAll();
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const rows = reader.getRows();
  const out = {
    rows: rows.length && rows[0].length ? plain(rows[0][0]) : 0,
    query_s: (t1 - t0) / 1000,
    query_user_s: cpu.user / 1e6,
    query_sys_s: cpu.system / 1e6,
    startup_s: startup,
    version: String(version),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
} catch (e) {
  process.stderr.write('duckdb_bench.mjs: ' + (e && e.message ? e.message : String(e)) + '\n');
  process.exit(1);
}

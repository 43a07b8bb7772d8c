#!/usr/bin/env node
// sql.mjs - runs SQL in an in-memory DuckDB (npm @duckdb/node-api) and prints the result of the
// last statement. The oracle of tests/suite_oracle.py.
//
//   node tests/oracle/sql.mjs [--json | --csv] [--all] [FILE]      (SQL from FILE, or stdin)
//
// --all prints the result of every SELECT statement, not just of the last statement, each
// introduced by a line `# result N` (N = 1, 2, ...), so one DuckDB start serves several queries.
//
// --json (the default) prints one JSON object per row: BIGINT/HUGEINT and other integers as exact
// JSON integers, DOUBLE as the shortest text that reads back to the same double (NaN and the
// infinities as the strings "NaN", "Infinity", "-Infinity"), NULL as null, anything else
// (timestamps, dates, decimals...) as DuckDB's text for it. --csv prints a header and RFC 4180
// rows, NULL as an empty field. Statements run in order; each but the last may return anything.
//
// Deterministic and offline: one thread, extensions are never installed or loaded from the
// network (ICU and the other extensions this build links in are used as they are).
import fs from 'node:fs';
import { DuckDBInstance, StatementType } from '@duckdb/node-api';

function usage(msg) {
  process.stderr.write((msg ? msg + '\n' : '') + 'usage: node sql.mjs [--json|--csv] [--all] [FILE]\n');
  process.exit(2);
}

let format = 'json';
let file = null;
let all = false;
for (const a of process.argv.slice(2)) {
  if (a === '--json') format = 'json';
  else if (a === '--csv') format = 'csv';
  else if (a === '--all') all = true;
  else if (a === '-h' || a === '--help') usage('');
  else if (a.startsWith('-') && a !== '-') usage('unknown option ' + a);
  else if (file === null) file = a;
  else usage('one FILE at most');
}
const sql = fs.readFileSync(file === null || file === '-' ? 0 : file, 'utf8');

function jsonValue(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '"NaN"';
    if (!Number.isFinite(v)) return v > 0 ? '"Infinity"' : '"-Infinity"';
    if (Object.is(v, -0)) return '-0.0';
    return JSON.stringify(v);
  }
  if (typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  return JSON.stringify(String(v));
}

function csvValue(v) {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' && Object.is(v, -0) ? '-0.0' : String(v);
  return /[",\r\n]/.test(s) || s === '' ? '"' + s.replace(/"/g, '""') + '"' : s;
}

function print(reader) {
  const names = reader.columnNames();
  const rows = reader.getRows();
  if (format === 'csv') {
    out.push(names.map(csvValue).join(','));
    for (const r of rows) out.push(r.map(csvValue).join(','));
  } else {
    for (const r of rows) {
      out.push('{' + r.map((v, i) => JSON.stringify(names[i]) + ':' + jsonValue(v)).join(',') + '}');
    }
  }
}

const instance = await DuckDBInstance.create(':memory:', {
  threads: '1',
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
});
const conn = await instance.connect();
await conn.run("SET TimeZone = 'UTC'");
let out = [];
try {
  const stmts = await conn.extractStatements(sql);
  if (stmts.count === 0) usage('no SQL statement');
  let nresult = 0;
  for (let i = 0; i < stmts.count; i++) {
    const prepared = await stmts.prepare(i);
    const isSelect = prepared.statementType === StatementType.SELECT;
    const reader = await prepared.runAndReadAll();
    if (all ? isSelect : i === stmts.count - 1) {
      if (all) out.push('# result ' + ++nresult);
      print(reader);
    }
  }
} catch (e) {
  process.stderr.write('sql.mjs: ' + (e && e.message ? e.message : String(e)) + '\n');
  process.exit(1);
}
process.stdout.write(out.length ? out.join('\n') + '\n' : '');

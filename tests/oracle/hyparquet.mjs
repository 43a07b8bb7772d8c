#!/usr/bin/env node
// hyparquet.mjs - reads Parquet files with hyparquet and hyparquet-compressors (npm), a reader
// written apart from DuckDB, and prints what it sees; an oracle of tests/suite_parquet.py.
//
//   node tests/oracle/hyparquet.mjs FILE...
//
// Per file, one JSON line of metadata: {"file", "num_rows", "created_by", "schema": [{name, type,
// repetition_type, converted_type, logical_type}] (the root first), "key_value_metadata":
// [[key, value]...], "row_groups": [rows of each], "chunks": per row group, per column {path,
// codec, encodings, num_values, dictionary_page_offset, null_count, min_value, max_value, min,
// max} (the statistics as hyparquet decodes them)}, then one JSON line per row: an array of its
// values. Integers (BigInt or not) print as exact JSON integers, doubles as the shortest text that
// reads back to the same double (NaN and the infinities as the strings "NaN", "Infinity",
// "-Infinity", -0 as -0.0), NULL as null; timestamps as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (exact
// microseconds) and dates as "YYYY-MM-DD", through hyparquet's own reading of the logical types.
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

const parsers = {
  timestampFromMicroseconds(us) {
    let sec = us / 1000000n;
    let frac = us % 1000000n;
    if (frac < 0n) {
      frac += 1000000n;
      sec -= 1n;
    }
    const iso = new Date(Number(sec) * 1000).toISOString();
    return { text: iso.slice(0, -5) + '.' + String(frac).padStart(6, '0') + 'Z' };
  },
  dateFromDays(days) {
    return { text: new Date(days * 86400000).toISOString().slice(0, 10) };
  },
};

function jsonValue(v) {
  switch (typeof v) {
    case 'bigint': return v.toString();
    case 'string': return JSON.stringify(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'number':
      if (Number.isNaN(v)) return '"NaN"';
      if (!Number.isFinite(v)) return v > 0 ? '"Infinity"' : '"-Infinity"';
      return Object.is(v, -0) ? '-0.0' : String(v);
    default:
      if (v === null || v === undefined) return 'null';
      if (typeof v.text === 'string') return JSON.stringify(v.text);
      if (Array.isArray(v)) return '[' + v.map(jsonValue).join(',') + ']';
      return '{' + Object.entries(v).map(([k, x]) => JSON.stringify(k) + ':' + jsonValue(x)).join(',') + '}';
  }
}

async function dump(path) {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file, { parsers });
  const head = {
    file: path,
    num_rows: metadata.num_rows,
    created_by: metadata.created_by ?? null,
    schema: metadata.schema.map((e) => ({
      name: e.name,
      type: e.type ?? null,
      repetition_type: e.repetition_type ?? null,
      converted_type: e.converted_type ?? null,
      logical_type: e.logical_type ?? null,
    })),
    key_value_metadata: (metadata.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? null]),
    row_groups: metadata.row_groups.map((g) => g.num_rows),
    chunks: metadata.row_groups.map((g) => g.columns.map(({ meta_data: m }) => ({
      path: m.path_in_schema.join('.'),
      codec: m.codec,
      encodings: m.encodings,
      num_values: m.num_values,
      dictionary_page_offset: m.dictionary_page_offset ?? null,
      null_count: m.statistics?.null_count ?? null,
      min_value: m.statistics?.min_value ?? null,
      max_value: m.statistics?.max_value ?? null,
      min: m.statistics?.min ?? null,
      max: m.statistics?.max ?? null,
    }))),
  };
  process.stdout.write(jsonValue(head) + '\n');
  let rows = [];
  await parquetRead({ file, metadata, compressors, parsers, rowFormat: 'array', onComplete: (r) => { rows = r; } });
  const out = [];
  for (const row of rows) {
    out.push('[' + row.map(jsonValue).join(',') + ']');
    if (out.length === 10000) {
      process.stdout.write(out.join('\n') + '\n');
      out.length = 0;
    }
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
}

if (process.argv.length < 3) {
  process.stderr.write('usage: node hyparquet.mjs FILE...\n');
  process.exit(2);
}
try {
  for (const path of process.argv.slice(2)) await dump(path);
} catch (e) {
  process.stderr.write('hyparquet.mjs: ' + (e && e.stack ? e.stack : String(e)) + '\n');
  process.exit(1);
}

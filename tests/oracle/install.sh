#!/bin/sh
# install.sh - installs what the oracles need: DuckDB for tests/suite_oracle.py and
# tests/suite_parquet.py, hyparquet (with hyparquet-compressors) for tests/suite_parquet.py: node and npm
# (Debian's nodejs and npm when either command is missing) and the npm packages of
# tests/oracle/package.json, as pinned by package-lock.json, into tests/oracle/node_modules.
# Called by `make deps` (tests/deps.sh). Idempotent and quiet: prints nothing and touches nothing
# when node_modules is already complete for this package-lock.json.
set -e
DIR=$(cd "$(dirname "$0")" && pwd)
STAMP="$DIR/node_modules/.pipec-installed"

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

missing=""
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
    echo "make deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq $missing >/dev/null
fi

# Complete: the stamp names this lock file's checksum and the packages the oracle loads are there.
want=$(cksum <"$DIR/package-lock.json")
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] &&
   [ -f "$DIR/node_modules/@duckdb/node-api/package.json" ] &&
   [ -d "$DIR/node_modules/@duckdb/node-bindings" ] &&
   [ -f "$DIR/node_modules/hyparquet/package.json" ] &&
   [ -f "$DIR/node_modules/hyparquet-compressors/package.json" ]; then
    exit 0
fi

echo "make deps: installing the DuckDB oracle (npm install in tests/oracle)"
cd "$DIR"
rm -f "$STAMP"
# `npm install` rather than `npm ci`: npm drops other platforms' optional packages from the lock
# file it writes, and `npm ci` then refuses it as out of sync. Every version is pinned all the same
# (package.json pins @duckdb/node-api, hyparquet and hyparquet-compressors exactly, and they pin
# their own dependencies exactly); --no-save leaves
# package.json and package-lock.json as they are.
log=$(mktemp)
if ! npm install --no-save --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    echo "tests/oracle/install.sh: npm install failed" >&2
    exit 1
fi
rm -f "$log"
# The platform's prebuilt DuckDB must load (it ships inside the npm packages; nothing is downloaded).
node -e "import('@duckdb/node-api').then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })"
echo "$want" >"$STAMP"

#!/bin/sh
# deps.sh - installs the Debian packages the build, the demo and the tests need.
# Idempotent and quiet: prints nothing when everything is already present.
set -e
# The DuckDB oracle of the window tests (Debian's nodejs and npm, then npm packages).
sh "$(dirname "$0")/oracle/install.sh"
# postgresql-15 and its client: the throwaway server of the PostgreSQL tests (tests/pgserver.py);
# libpq-dev: the PostgreSQL sink. librdkafka-dev: the Kafka source and the test broker (its mock
# cluster, tests/kafka/); kcat and python3-confluent-kafka: clients we did not write, feeding and
# reading the test broker. libzstd-dev and libsnappy-dev: the Parquet writer's page compression
# (runtime/rt_pq_encode.c). libmicrohttpd-dev: the metrics endpoint (runtime/rt_metrics.c);
# prometheus: its promtool checks the endpoint's output in the suite. python3-jsonschema: a JSON
# Schema validator we did not write, checking the schema of `pipec schema` (tests/suite_schema.py).
# clang: libFuzzer for `make fuzz` (tests/fuzz/). libcurl4-gnutls-dev: the http source
# (runtime/rt_http.c; GnuTLS, as the metrics endpoint).
PKGS="build-essential libyaml-dev libsqlite3-dev sqlite3 tzdata python3-jinja2 postgresql-15 postgresql-client-15 libpq-dev librdkafka-dev kcat python3-confluent-kafka python3-jsonschema libzstd-dev libsnappy-dev libmicrohttpd-dev prometheus clang libcurl4-gnutls-dev"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# apt-get's stderr (debconf's "delaying package configuration" and the like) goes to a log,
# shown only when apt-get fails.
log=$(mktemp)
if ! $SUDO apt-get update -qq >/dev/null 2>"$log" ||
   ! $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>>"$log"; then
    cat "$log" >&2
    rm -f "$log"
    echo "make deps: apt-get failed" >&2
    exit 1
fi
rm -f "$log"

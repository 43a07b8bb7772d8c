#!/bin/sh
# deps.sh - installs the Debian packages the build, the demo and the tests need.
# Idempotent and quiet: prints nothing when everything is already present.
set -e
# The DuckDB oracle of the window tests (Debian's nodejs and npm, then npm packages).
sh "$(dirname "$0")/oracle/install.sh"
PKGS="build-essential libyaml-dev libsqlite3-dev sqlite3 tzdata python3-jinja2"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

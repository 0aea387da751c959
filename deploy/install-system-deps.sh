#!/usr/bin/env bash
# Debian packages the tests need: Chromium + driver (browser tests), nginx (config
# check and the proxy test), redis-server (private Redis), make, python3-venv, and
# Node.js + npm (`npm ci`: axe-core for the browser tests' accessibility check,
# mingo for the conformance suite). Reports: Chromium again (kaleido's chart
# images), pango and a font for WeasyPrint's PDF layout, poppler-utils (pdftotext,
# pdftoppm) for the report tests.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v make >/dev/null || missing+=(make)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
ldconfig -p | grep -q libpangoft2-1.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
fc-list 2>/dev/null | grep -q DejaVuSans || missing+=(fonts-dejavu-core)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# Debian's python3 needs python3-venv for `python3 -m venv` (make creates .venv).
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

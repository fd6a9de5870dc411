#!/usr/bin/env bash
# The whole test suite with the quality gates; this is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check src tests; ruff format --check src tests
echo "== mypy"; mypy
echo "== import contracts"; lint-imports
echo "== unit tests"; pytest -m unit -q
echo "== integration tests"; pytest -m integration -q

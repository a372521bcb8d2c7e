#!/usr/bin/env bash
# The static checks, run by .ci/run before the tests: ruff (pyflakes, pycodestyle, import order, pyupgrade, bugbear),
# mypy over every package, and the GitHub Actions workflows against their JSON schema (offline, vendored schema).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

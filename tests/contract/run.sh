#!/usr/bin/env bash
# Runs the contract suite (tests/contract): agentver's renders, hook answers and corpus judged by the
# platforms' own SDKs, pinned in tests/contract/requirements.txt.
#
# The virtual environment is $CONTRACT_VENV (default target/contract-venv); it is created when
# missing and the requirements are installed only when requirements.txt changed since the last
# install (a stamp in the venv holds its hash). The binary under test is $AGENTVER_BIN, else
# target/debug/agentver: build it first, this script never does. Extra arguments go to pytest.
#
# Ends with one plain line, `contract: N passed, N failed` (and `, N skipped` when any), counted
# from pytest's JUnit report (errors count as failed), and exits non-zero on any failure and also
# when no test ran.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${CONTRACT_VENV:-$repo/target/contract-venv}"
requirements="$repo/tests/contract/requirements.txt"
stamp="$venv/.contract-requirements.sha256"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the work tree

if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
    "$venv/bin/python" -m pip install -q -r "$requirements"
    echo "$wanted" >"$stamp"
fi

report="$(mktemp)"
trap 'rm -f "$report"' EXIT
set +e
(cd "$repo" && "$venv/bin/python" -m pytest tests/contract -q -p no:cacheprovider --junitxml="$report" "$@")
status=$?
set -e

# The tally, from the JUnit report's totals (one <testsuite>, or several under <testsuites>).
tally="$("$venv/bin/python" - "$report" <<'PY'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:  # pytest died before writing it
    print("0 0 0")
    raise SystemExit
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
total = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(total - failed - skipped, failed, skipped)
PY
)"
read -r passed failed skipped <<<"$tally"

line="contract: $passed passed, $failed failed"
if [ "$skipped" -gt 0 ]; then
    line="$line, $skipped skipped"
fi
echo "$line"

if [ "$failed" -gt 0 ] || [ "$passed" -eq 0 ]; then
    [ "$status" -ne 0 ] || status=1
    exit "$status"
fi
exit "$status"

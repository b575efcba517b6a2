#!/usr/bin/env bash
# Gradescope runs this for every submission, in /autograder
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/). Written by `kit export gradescope`.
# It grades the submission with `kit grade` and writes results/results.json (grading/platforms/gradescope.py);
# the paths move with AUTOGRADER_ROOT, AUTOGRADER_SOURCE, AUTOGRADER_SUBMISSION, AUTOGRADER_RESULTS.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
RESULTS="${AUTOGRADER_RESULTS:-$ROOT/results/results.json}"
PYTHON="${KIT_PYTHON:-}"
if [ -z "$PYTHON" ]; then
  if [ -x "$ROOT/venv/bin/python" ]; then PYTHON="$ROOT/venv/bin/python"; else PYTHON=python3; fi
fi
mkdir -p "$(dirname "$RESULTS")"
rm -f "$RESULTS"
"$PYTHON" -m grading.platforms.gradescope run
status=$?
if [ ! -s "$RESULTS" ]; then  # not even Python could run: still a valid results.json
  echo "run_autograder: $PYTHON -m grading.platforms.gradescope run failed with status $status"
  printf '{"score": 0, "visibility": "visible", "tests": [], "output": "%s"}\n' \
    "The autograder itself failed before it could grade this submission (not your code). Please tell your instructor." \
    > "$RESULTS"
fi
exit 0

#!/usr/bin/env bash
# `make test`: the whole suite as a few pytest processes at once (the tests wait on the broker
# and the databases far more than they compute; every test has its own vhost and databases, so
# the processes cannot see each other). Each shard's output goes to var/test-logs/; the summary
# lines and any failures are printed (each log ends with its eight slowest tests); the exit code is
# non-zero when any shard failed.
# pytest-xdist is not used: its execnet channels deadlock under eventlet's monkey patching.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
LOGS=var/test-logs
if [ $# -gt 0 ]; then LOGS=var/test-logs/only-$$; fi   # one path's run leaves the others' logs
mkdir -p "$LOGS"
rm -f "$LOGS"/shard-*.log

SHARDS=(
  "tests/unit tests/contracts services/affairs"
  "tests/integration/test_stars_*.py tests/integration/test_cli.py services/tickets"
  "tests/integration/test_bus*.py tests/integration/test_idempotent_rpc.py tests/integration/test_scaffold_project.py tests/integration/test_chaos_smoke.py"
  "services/talent services/notify tests/integration/test_members_*.py"
  "services/gateway"
)
if [ $# -gt 0 ]; then SHARDS=("$*"); fi

started=$(date +%s)
pids=()
for i in "${!SHARDS[@]}"; do
  # shellcheck disable=SC2086
  $PY -m pytest -q -p no:cacheprovider --durations=8 ${SHARDS[$i]} > "$LOGS/shard-$i.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!SHARDS[@]}"; do
  if ! wait "${pids[$i]}"; then failed=1; fi
done
for i in "${!SHARDS[@]}"; do
  echo "== ${SHARDS[$i]}"
  grep -E "^(FAILED|ERROR) " "$LOGS/shard-$i.log" || true
  tail -n 1 "$LOGS/shard-$i.log"
done
echo "== all shards in $(( $(date +%s) - started )) s; logs in $LOGS/"
exit $failed

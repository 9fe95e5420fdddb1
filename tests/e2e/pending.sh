#!/bin/bash
# A pending journal (an apply that could not restore the host): --dry-run,
# list and export say so, and --dry-run and export show the state the next
# apply starts from (after its restore), not the half-applied one.
. "$(dirname "$0")/lib.sh"
sim_start --gpu T4
CFG="$T_TMP/c.yaml"
printf 'version: v1\nvgpu-configs:\n  four:\n    - devices: all\n      vgpu-devices:\n        T4-4Q: 4\n  eight:\n    - devices: all\n      vgpu-devices:\n        T4-8Q: 2\n' >"$CFG"
dm apply -f "$CFG" -c four
expect_rc 0 "set-up: four"
# The create fails, and so does the rollback's first re-create: exit 5, the
# journal (the host as "four") stays.
printf 'create 1 EIO\ncreate 2 EIO\n' >"$ROOT/.vgpu-sim/faults"
dm apply -f "$CFG" -c eight
expect_rc 5 "rollback failed: journal kept"
echo clear >"$ROOT/.vgpu-sim/faults"
[ -e "$ROOT/run/nvidia-vgpu-dm.journal" ] && pass "journal there" || fail "no journal"
half=$(vgpu_types | xargs)
[ "$half" != "4 T4-4Q" ] && pass "host half-applied ($half)" || fail "host not half-applied"

dm apply -f "$CFG" -c four --dry-run
expect_rc 0 "dry-run with a pending journal"
expect_err "WARN.*an earlier apply \(pid [0-9]+\) did not finish: the next apply first restores GPU 0 \(.*\) from its journal /run/nvidia-vgpu-dm.journal \(4 vGPUs\); shown as that restore leaves it" "dry-run names the journal"
expect_out "^GPU 0 \(.*\) T4: 4 x T4-4Q \(already applied\)$" "dry-run plans from the restored state"
dm apply -f "$CFG" -c eight --dry-run --json
python3 - "$OUT" <<'PY' && pass "dry-run --json: 4 removes, 2 creates from the restored state" || fail "dry-run --json from the restored state"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["remove"] == 4 and p["create"] == 2, p
PY
dm export
expect_rc 0 "export with a pending journal"
expect_out "T4-4Q: 4" "export shows the layout the next apply starts from"
expect_err "WARN.*did not finish" "export says so"
dm list
expect_rc 0 "list with a pending journal"
expect_err "WARN.*an earlier apply \(pid [0-9]+\) did not finish: the next apply first restores GPU 0 .* \(4 vGPUs\)$" "list names the journal"
expect_eq "$(grep -cE '^  [0-9a-f]{8}-' "$OUT")" "$(vgpus | wc -l)" "list still shows the host as it is"
# The apply restores, then applies: the dry-run was right.
dm apply -f "$CFG" -c four
expect_rc 0 "apply restores from the journal"
expect_eq "$(vgpu_types | xargs)" "4 T4-4Q" "four again"
dm list
if grep -q "did not finish" "$ERR"; then fail "journal still announced"; else pass "no journal, no warning"; fi
finish

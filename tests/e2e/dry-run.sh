#!/bin/bash
# apply --dry-run [--json]: the plan, with ids, and nothing written.
. "$(dirname "$0")/lib.sh"
sim_start --gpu T4 --gpu T4
CFG="$T_TMP/c.yaml"
cat >"$CFG" <<'YAML'
version: v1
vgpu-configs:
  four:
    - devices: all
      vgpu-devices:
        T4-4Q: 4
  split:
    - devices: [0]
      vgpu-devices:
        T4-4Q: 4
    - devices: [1]
      vgpu-devices:
        T4-8Q: 2
YAML
dm apply -f "$CFG" -c four
expect_rc 0 "set-up"
before=$(vgpus)
sim_reset
dm apply -f "$CFG" -c split --dry-run
expect_rc 0 "dry-run"
expect_eq "$(sim_counter write)" 0 "dry-run writes nothing"
expect_eq "$(vgpus)" "$before" "dry-run changes nothing"
expect_out "^GPU 0 \(.*\) T4: 4 x T4-4Q \(already applied\)$" "GPU 0 already applied"
expect_out "^GPU 1 \(.*\) T4: 4 x T4-4Q -> 2 x T4-8Q$" "GPU 1 changes"
expect_eq "$(grep -c '^  remove ' "$OUT")" 4 "4 removes listed"
expect_eq "$(grep -cE '^  create +\(random at apply\) +T4-8Q +on ' "$OUT")" 2 "2 creates listed, their UUIDs random at apply"
expect_out "^2 to create, 4 to remove, 4 kept$" "summary line"
if grep -q "successfully applied" "$ERR"; then fail "dry-run claims success"; else pass "dry-run does not claim to apply"; fi

dm apply -f "$CFG" -c split --dry-run --json
expect_rc 0 "dry-run --json"
python3 - "$OUT" <<'PY' && pass "JSON plan" || fail "JSON plan"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["create"] == 2 and p["remove"] == 4 and p["keep"] == 4, p
g1 = p["gpus"][1]
assert g1["selected"] and not g1["applied"]
assert g1["wanted"] == {"T4-8Q": 2} and g1["current"] == {"T4-4Q": 4}, g1
assert sorted(o["op"] for o in g1["operations"]) == ["create"] * 2 + ["remove"] * 4
PY

dm apply -f "$CFG" -c four --json
expect_rc 1 "--json without --dry-run"
expect_err "--json goes with --dry-run" "says so"

printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices:\n        T4-1Q: 17\n' >"$T_TMP/big.yaml"
dm apply -f "$T_TMP/big.yaml" --dry-run
expect_rc 1 "dry-run reports the same refusals as apply"
expect_err "holds at most 16" "capacity refusal"
# With --json the refusal is JSON on stdout too (a script reads stdout only).
dm apply -f "$T_TMP/big.yaml" --dry-run --json
expect_rc 1 "dry-run --json: the same refusal"
expect_err "holds at most 16" "the refusal on stderr as before"
python3 - "$OUT" <<'PY' && pass "dry-run --json prints the refusal as JSON" || fail "refusal JSON"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["refused"] is True, p
assert p["refusal"]["exit_code"] == 1 and "holds at most 16" in p["refusal"]["message"], p
assert p["refusal"]["in_use"] is None, p
PY
dm apply -f "$CFG" -c split --dry-run --json
python3 - "$OUT" <<'PY' && pass "an accepted plan says refused: false" || fail "plan JSON refused field"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["refused"] is False and p["refusal"] is None, p
PY
finish

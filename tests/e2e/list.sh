#!/bin/bash
# list: text and JSON views of a host, compared with golden files for an
# empty host, and checked for vGPUs after an apply.
. "$(dirname "$0")/lib.sh"
sim_start --gpu T4 --gpu A100
GOLD="$VGPUDM_SRCDIR/tests/golden"

dm list
expect_rc 0 "list"
if diff -u "$GOLD/list-t4-a100.txt" "$OUT"; then pass "list text matches golden"; else fail "list text differs from golden"; fi
dm list --json
expect_rc 0 "list --json"
if diff -u "$GOLD/list-t4-a100.json" "$OUT"; then pass "list json matches golden"; else fail "list json differs from golden"; fi

printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: [0]\n      vgpu-devices:\n        T4-8Q: 2\n' >"$T_TMP/c.yaml"
dm apply -f "$T_TMP/c.yaml"
expect_rc 0 "apply 2 x T4-8Q"
dm list
n=$(grep -cE '^  [0-9a-f-]{36}  T4-8Q ' "$OUT")
expect_eq "$n" 2 "list shows the two vGPUs"
expect_out "^  T4-8Q +nvidia-[0-9]+ +0 +2$" "T4-8Q has no free instance left"
expect_out "^  T4-1Q +nvidia-[0-9]+ +0 +16$" "other types show 0 free next to T4-8Q"
dm list --json
python3 - "$OUT" <<'PY' && pass "json vGPUs have uuid, type, parent" || fail "json vGPUs"
import json, sys
g = json.load(open(sys.argv[1]))["gpus"][0]
assert len(g["vgpus"]) == 2
for v in g["vgpus"]:
    assert v["type"] == "T4-8Q" and len(v["uuid"]) == 36 and v["parent"] == g["address"]
PY
fusermount3 -u "$ROOT"

# An empty L40S on vendor VFIO without NVML: 32 free VFs each offer
# L40S-48Q, but the GPU takes one; the maximum comes from the catalogue.
sim_start --gpu L40S:vfio
dm list
expect_rc 0 "list an L40S without NVML"
expect_out "^  L40S-48Q +[0-9]+ +1 +1$" "L40S-48Q: FREE 1, MAX 1 (not 32)"
expect_out "^  L40S-1Q +[0-9]+ +32 +32$" "L40S-1Q: FREE 32, MAX 32"
dm list --json
python3 - "$OUT" <<'PY' && pass "list --json: free and max of L40S-48Q are 1" || fail "list --json L40S-48Q"
import json, sys
t = {x["name"]: x for x in json.load(open(sys.argv[1]))["gpus"][0]["types"]}
assert t["L40S-48Q"]["free"] == 1 and t["L40S-48Q"]["max_instances"] == 1, t["L40S-48Q"]
PY
finish

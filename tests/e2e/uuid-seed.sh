#!/bin/bash
# --uuid-seed keeps the lowest ordinals, so the host always equals what a
# fresh apply with the seed builds; --dry-run never shows a UUID that will
# not happen.
. "$(dirname "$0")/lib.sh"
CFG="$T_TMP/c.yaml"
printf 'version: v1\nvgpu-configs:\n  four:\n    - devices: all\n      vgpu-devices:\n        T4-4Q: 4\n  two:\n    - devices: all\n      vgpu-devices:\n        T4-4Q: 2\n' >"$CFG"
ids() { vgpus | awk '{print $1}' | sort | xargs; }

# What a fresh apply of "two" with the seed builds.
sim_start --gpu T4
dm apply -f "$CFG" -c two --uuid-seed s1
expect_rc 0 "fresh: two"
fresh=$(ids)
dm apply -f "$CFG" -c four --uuid-seed s1
expect_rc 0 "grow to four"
# --dry-run with a seed shows the UUIDs apply will make (nothing to make here).
dm apply -f "$CFG" -c two --uuid-seed s1
expect_rc 0 "shrink to two"
expect_eq "$(ids)" "$fresh" "shrinking keeps ordinals 0 and 1: the host equals a fresh apply"
fusermount3 -u "$ROOT"

# The same, with a VM holding ordinal 3: it is kept, with a warning.
sim_start --gpu T4
dm apply -f "$CFG" -c four --uuid-seed s1
all=$(ids)
dm apply -f "$CFG" -c two --uuid-seed s1 --dry-run --json
python3 - "$OUT" <<'PY' && pass "dry-run keeps the two lowest ordinals" || fail "dry-run keep set"
import json, sys
ops = json.load(open(sys.argv[1]))["gpus"][0]["operations"]
assert sorted(o["op"] for o in ops) == ["keep", "keep", "remove", "remove"], ops
PY
kept=$(python3 -c 'import json,sys; print(" ".join(sorted(o["id"] for o in json.load(open(sys.argv[1]))["gpus"][0]["operations"] if o["op"]=="keep")))' "$OUT")
expect_eq "$kept" "$fresh" "the kept ones are ordinals 0 and 1"
# ordinal 3: the one that is in "all" and not kept, and not ordinal 2 ... find it by a fresh three-apply:
third=""
for u in $all; do case " $fresh " in *" $u "*) ;; *) third="$third $u" ;; esac; done
held=$(echo $third | awk '{print $1}')
group=$(basename "$(readlink "$ROOT/sys/bus/mdev/devices/$held/iommu_group")")
sleep 300 3<>"$ROOT/dev/vfio/$group" &
holder=$!
# until it runs as sleep (before its exec it is a copy of this shell)
for _ in $(seq 100); do grep -qa "^sleep" "$ROOT/proc/$holder/cmdline" 2>/dev/null && break; sleep 0.1; done
dm apply -f "$CFG" -c two --uuid-seed s1
expect_rc 0 "shrink with a VM holding a high ordinal"
expect_err "WARN.*keeping vGPU $held \(T4-4Q, seeded ordinal [23]\), which pid $holder holds; a fresh apply with this --uuid-seed makes ordinals 0 to 1" "warns that the VM forces otherwise"
case " $(ids) " in *" $held "*) pass "the held vGPU is kept" ;; *) fail "held vGPU removed" ;; esac
kill $holder; wait $holder 2>/dev/null
fusermount3 -u "$ROOT"

# --dry-run without a seed: creates are "random at apply", never a UUID.
sim_start --gpu T4
dm apply -f "$CFG" -c two --dry-run
expect_rc 0 "dry-run without a seed"
expect_out "create  \(random at apply\)  T4-4Q" "random UUIDs are marked, not shown"
if grep -Eq "create  [0-9a-f]{8}-" "$OUT"; then fail "a UUID that will not happen is shown"; else pass "no invented UUID"; fi
dm apply -f "$CFG" -c two --dry-run --json
python3 - "$OUT" <<'PY' && pass "JSON: id null, id_at_apply random" || fail "JSON create ids"
import json, sys
ops = json.load(open(sys.argv[1]))["gpus"][0]["operations"]
assert ops and all(o["id"] is None and o["id_at_apply"] == "random" for o in ops), ops
PY
# With a seed the dry-run shows the UUIDs apply then makes.
dm apply -f "$CFG" -c two --dry-run --uuid-seed s2
planned=$(grep -Eo "create  [0-9a-f-]{36}" "$OUT" | awk '{print $2}' | sort | xargs)
dm apply -f "$CFG" -c two --uuid-seed s2
expect_eq "$(ids)" "$planned" "seeded dry-run shows the UUIDs apply makes"
finish

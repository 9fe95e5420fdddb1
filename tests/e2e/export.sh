#!/bin/bash
# export: the host's layout as a config file. It asserts as applied on the host
# it came from, applies on a second, empty host of the same shape to the same
# per-GPU layout, and so does its JSON form. -l names the label. An empty
# 2 x T4 host exports as tests/golden/export-empty-t4x2.yaml.
. "$(dirname "$0")/lib.sh"
sim_start --gpu T4 --gpu A16

# A second simulated host, with its own mount and clean-up (lib.sh's cleanup
# removes $T_TMP, so the second mount goes first).
ROOT2="$T_TMP/host2"
umount2() {
	if mountpoint -q "$ROOT2" 2>/dev/null; then
		fusermount3 -u "$ROOT2" 2>/dev/null || fusermount3 -uz "$ROOT2" 2>/dev/null
	fi
}
trap 'in_main_shell && { umount2; cleanup; }' EXIT
sim2_start() {
	umount2
	mkdir -p "$ROOT2"
	if ! "$VGPU_SIM" "$@" "$ROOT2"; then
		echo "FATAL: vgpu-sim $* (second host) failed to start" >&2
		exit 1
	fi
}
dm2() { dm_at "$ROOT2" "$@"; }
# Per GPU index: "index type=count ..." lines from list --json (types sorted).
layout() { # layout ROOT
	dm_at "$1" list --json
	python3 -c '
import json, sys, collections
for g in json.load(sys.stdin)["gpus"]:
    c = collections.Counter(v["type"] for v in g["vgpus"])
    print(g["index"], " ".join("%s=%d" % kv for kv in sorted(c.items())) or "-")' <"$OUT"
}
vgpu_count() { # vgpu_count ROOT
	find "$1/sys/bus/mdev/devices" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

sim2_start --gpu T4 --gpu A16

CFG="$T_TMP/layout.yaml"
cat >"$CFG" <<'YAML'
version: v1
vgpu-configs:
  layout:
    - devices: [0]
      vgpu-devices:
        T4-2Q: 3
    - devices: [1]
      vgpu-devices:
        A16-4A: 1
        A16-4Q: 2
    - devices: [2]
      vgpu-devices:
        A16-8C: 2
    - devices: [3]
      vgpu-devices:
        A16-1B: 5
  other:
    - devices: all
      vgpu-devices:
        A16-16Q: 1
    - devices: [0]
      vgpu-devices:
        T4-16Q: 1
YAML

# --- an empty host: every GPU with vgpu-devices: {} ---
dm export
expect_rc 0 "export of an empty host"
# identical GPUs share one entry: the A16 board's four as "devices: all"
expect_eq "$(grep -c '^    vgpu-devices: {}$' "$OUT")" 2 "2 entries (T4; the A16s), each with vgpu-devices: {}"
expect_eq "$(grep -c '^  - device-filter: "0x25B610DE"$' "$OUT")" 1 "A16 device filter, uppercase hex, once"
expect_eq "$(grep -A1 '^  - device-filter: "0x25B610DE"$' "$OUT" | tail -1)" "    devices: all" "the four empty A16 GPUs: devices: all"
expect_eq "$(grep -c '^  - device-filter: "0x1EB810DE"$' "$OUT")" 1 "T4 device filter"
cp "$OUT" "$T_TMP/empty.yaml"
dm assert -f "$T_TMP/empty.yaml"
expect_rc 0 "the empty export asserts on the empty host"

# --- lay the first host out and export it ---
dm apply -f "$CFG" -c layout
expect_rc 0 "apply the layout on host 1"
want_layout=$(layout "$ROOT")
expect_eq "$(echo "$want_layout" | head -2 | tail -1)" "1 A16-4A=1 A16-4Q=2" "host 1 GPU 1 laid out"

X="$T_TMP/x.yaml"
dm export
cp "$OUT" "$X"
expect_rc 0 "export > x.yaml"
expect_eq "$(cat "$ERR")" "" "export prints nothing on stderr"
expect_eq "$(head -3 "$X")" "version: v1
vgpu-configs:
  current:" "default label 'current'"
expect_eq "$(grep -A6 'devices: \[1\]' "$X" | sed -n 2,4p)" "    vgpu-devices:
      A16-4Q: 2
      A16-4A: 1" "types in the GPU's type order"
expect_eq "$(grep -A1 'devices: \[4\]' "$X" | tail -1)" "    vgpu-devices: {}" "GPU without vGPUs: vgpu-devices: {}"
if grep -q '^#\|---\|\.\.\.' "$X"; then fail "no document markers"; else pass "no document markers"; fi

dm assert -f "$X"
expect_rc 0 "x.yaml asserts as applied on host 1"
dm assert -f "$X" -c current
expect_rc 0 "x.yaml asserts with -c current"
dm assert --valid-config -f "$X" -c current
expect_rc 0 "x.yaml passes assert --valid-config"
dm assert -f - <"$X"
expect_rc 0 "x.yaml asserts from standard input"

# --- apply it on the second host ---
expect_eq "$(vgpu_count "$ROOT2")" 0 "host 2 starts empty"
dm2 apply -f "$X"
expect_rc 0 "apply x.yaml on host 2"
dm2 assert -f "$X"
expect_rc 0 "x.yaml asserts on host 2"
expect_eq "$(layout "$ROOT2")" "$want_layout" "host 2 has host 1's per-GPU type counts"
dm2 export
expect_eq "$(cat "$OUT")" "$(cat "$X")" "host 2 exports the same file"
dm2 assert -f "$CFG" -c layout
expect_rc 0 "host 2 matches the original layout label"

# --- JSON ---
XJ="$T_TMP/x.json"
dm export --json
cp "$OUT" "$XJ"
expect_rc 0 "export --json"
py_out=$(python3 - "$XJ" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["version", "vgpu-configs"], list(d)
assert d["version"] == "v1"
cfgs = d["vgpu-configs"]
assert list(cfgs) == ["current"], list(cfgs)
es = cfgs["current"]
assert [e["devices"] for e in es] == [[0], [1], [2], [3], [4]], es
assert [list(e) for e in es] == [["device-filter", "devices", "vgpu-devices"]] * 5
assert es[0]["device-filter"] == "0x1EB810DE"
assert es[1]["vgpu-devices"] == {"A16-4Q": 2, "A16-4A": 1}, es[1]
assert list(es[1]["vgpu-devices"]) == ["A16-4Q", "A16-4A"]
assert es[4]["vgpu-devices"] == {}
print("ok")
PY
)
expect_eq "$py_out" "ok" "export --json parses with python3, same structure"
dm2 apply -f "$CFG" -c other
expect_rc 0 "host 2 changed to another layout"
dm2 assert -f "$XJ"
expect_rc 1 "x.json does not assert on the changed host"
dm2 apply -f "$XJ"
expect_rc 0 "apply x.json on host 2"
dm2 assert -f "$XJ" -c current
expect_rc 0 "x.json asserts on host 2"
expect_eq "$(layout "$ROOT2")" "$want_layout" "x.json restores host 1's per-GPU type counts"
dm assert --valid-config -f "$XJ"
expect_rc 0 "x.json passes assert --valid-config"

# --- the label ---
dm export -l mine
expect_rc 0 "export -l mine"
expect_eq "$(sed -n 3p "$OUT")" "  mine:" "-l sets the label"
cp "$OUT" "$T_TMP/mine.yaml"
dm assert -f "$T_TMP/mine.yaml" -c mine
expect_rc 0 "assert -c mine"
dm assert -f "$T_TMP/mine.yaml" -c current
expect_rc 1 "label 'current' is not in the file"
expect_err "selected vgpu-config not present: current" "unknown label message"
dm export --label=T4-2Q-lab --json
expect_rc 0 "export --label=... --json"
expect_out '"T4-2Q-lab": \[' "JSON uses the label"
dm export -label 'with space'
expect_rc 0 "export -label 'with space'"
cp "$OUT" "$T_TMP/space.yaml"
dm assert -f "$T_TMP/space.yaml" -c 'with space'
expect_rc 0 "a label with a space round-trips"
dm export -l ''
expect_rc 1 "empty label refused"
expect_err "label must not be empty" "empty label message"
dm export extra
expect_rc 1 "unexpected argument"
expect_err "unexpected argument 'extra'" "unexpected argument message"
dm export --help
expect_rc 0 "export --help"
expect_out "--label" "help lists --label"

# --- identical GPUs merged: two pairs of A16 GPUs ---
printf 'version: v1\nvgpu-configs:\n  pairs:\n    - devices: [1, 2]\n      vgpu-devices:\n        A16-4Q: 4\n    - devices: [3, 4]\n      vgpu-devices:\n        A16-8Q: 2\n' >"$T_TMP/pairs.yaml"
dm2 apply -f "$T_TMP/pairs.yaml"
expect_rc 0 "host 2: two pairs of A16 layouts"
dm2 export
cp "$OUT" "$T_TMP/pairs-x.yaml"
expect_eq "$(grep -c '^    devices: \[1, 2\]$' "$OUT")" 1 "GPUs 1 and 2 share an entry"
expect_eq "$(grep -c '^    devices: \[3, 4\]$' "$OUT")" 1 "GPUs 3 and 4 share an entry"
dm2 assert -f "$T_TMP/pairs-x.yaml"
expect_rc 0 "the merged export asserts"
dm2 export --json
python3 - "$OUT" <<'PY' && pass "export --json merges the same way" || fail "export --json merge"
import json, sys
es = json.load(open(sys.argv[1]))["vgpu-configs"]["current"]
assert [e["devices"] for e in es] == [[0], [1, 2], [3, 4]], es
PY

# --- mixed-size mode is noted at the top of the file ---
sim2_start --gpu A10 --mixed-size
printf 'version: v1\nvgpu-configs:\n  mix:\n    - devices: all\n      vgpu-devices:\n        A10-4Q: 2\n        A10-8Q: 1\n' >"$T_TMP/mix.yaml"
VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_SIM_ROOT="$ROOT2" dm2 apply -f "$T_TMP/mix.yaml"
expect_rc 0 "mixed sizes on an A10 in mixed-size mode"
dm2 export
expect_eq "$(head -1 "$OUT")" "# GPU 0 (0000:03:00.0) is in mixed-size mode: a GPU this layout is applied to must be too (nvidia-smi vgpu -i <address> -shm 1, while it holds no vGPU)" "export notes mixed-size mode"
cp "$OUT" "$T_TMP/mix-x.yaml"
dm2 assert -f "$T_TMP/mix-x.yaml"
expect_rc 0 "the noted export asserts"

# --- golden: an empty 2 x T4 host ---
sim2_start --gpu T4 --gpu T4
dm2 export
expect_rc 0 "export of an empty 2 x T4 host"
GOLDEN="$VGPUDM_SRCDIR/tests/golden/export-empty-t4x2.yaml"
if diff -u "$GOLDEN" "$OUT"; then pass "matches $GOLDEN"; else fail "differs from $GOLDEN"; fi
dm2 apply -f "$GOLDEN"
expect_rc 0 "the golden file applies"
expect_eq "$(vgpu_count "$ROOT2")" 0 "and leaves the host empty"
finish

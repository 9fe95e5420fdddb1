#!/bin/bash
# Ampere GPUs under mdev: the SR-IOV VFs are the parents, one vGPU each. An A16
# board is four GPUs; an A100 has its own types.
. "$(dirname "$0")/lib.sh"
sim_start --gpu A16 --gpu A100
CFG="$T_TMP/c.yaml"
cat >"$CFG" <<'YAML'
version: v1
vgpu-configs:
  a16-4q:
    - device-filter: "0x25B610DE"
      devices: all
      vgpu-devices:
        A16-4Q: 4
  a16-2q:
    - device-filter: "0x25B610DE"
      devices: all
      vgpu-devices:
        A16-2Q: 8
  mixed:
    - device-filter: "0x25B610DE"
      devices: [0, 1]
      vgpu-devices:
        A16-16Q: 1
    - device-filter: "0x25B610DE"
      devices: [2, 3]
      vgpu-devices:
        A16-1Q: 16
    - device-filter: "0x20F110DE"
      devices: all
      vgpu-devices:
        A100-4C: 10
YAML

dm list --json
expect_rc 0 "list --json"
ngpu=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["gpus"]))' "$OUT")
expect_eq "$ngpu" 5 "A16 board (4 GPUs) + A100 = 5 GPUs"
a100=$(python3 -c 'import json,sys; print([g["address"] for g in json.load(open(sys.argv[1]))["gpus"] if g["model"]=="A100"][0])' "$OUT")

dm apply -f "$CFG" -c a16-4q
expect_rc 0 "apply a16-4q"
expect_eq "$(vgpu_types)" "16 A16-4Q" "4 x A16-4Q on each of the 4 GPUs"
per_vf=$(vgpus | awk '{print $3}' | sort | uniq -c | awk '$1 > 1' | wc -l)
expect_eq "$per_vf" 0 "one vGPU per VF"
dm assert -f "$CFG" -c a16-4q
expect_rc 0 "assert a16-4q"

dm apply -f "$CFG" -c a16-2q
expect_rc 0 "apply a16-2q"
expect_eq "$(vgpu_types)" "32 A16-2Q" "8 x A16-2Q on each GPU"

dm apply -f "$CFG" -c mixed
expect_rc 0 "apply mixed (16Q, 1Q, A100-4C)"
expect_eq "$(vgpu_types)" "10 A100-4C
2 A16-16Q
32 A16-1Q" "mixed layout"
dm assert -f "$CFG" -c mixed
expect_rc 0 "assert mixed"
dm assert -f "$CFG" -c a16-2q
expect_rc 1 "assert a16-2q after mixed"

# Parents of the A100's vGPUs are VFs whose physfn is the A100.
bad=0
while read -r uuid tid parent; do
	case "$(cat "$ROOT/sys/bus/mdev/devices/$uuid/mdev_type/name")" in *" A100-"*) ;; *) continue ;; esac
	pf=$(basename "$(readlink "$ROOT/sys/bus/pci/devices/$parent/physfn")")
	[ "$pf" == "$a100" ] || bad=$((bad + 1))
done < <(vgpus)
expect_eq "$bad" 0 "A100 vGPUs sit on the A100's VFs"
finish

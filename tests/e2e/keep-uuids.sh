#!/bin/bash
# Only what differs changes: a second apply writes nothing, vGPUs the target
# still wants keep their UUIDs, GPUs that already match are not touched.
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
  two:
    - devices: all
      vgpu-devices:
        T4-4Q: 2
  split:
    - devices: [0]
      vgpu-devices:
        T4-4Q: 2
    - devices: [1]
      vgpu-devices:
        T4-8Q: 2
  only-first:
    - devices: [0]
      vgpu-devices:
        T4-16Q: 1
YAML

dm apply -f "$CFG" -c four
expect_rc 0 "apply four"
before=$(vgpus)
sim_reset
dm apply -f "$CFG" -c four
expect_rc 0 "second apply"
expect_eq "$(sim_counter write)" 0 "second apply writes nothing"
expect_eq "$(vgpus)" "$before" "second apply changes nothing"
expect_err "successfully applied" "second apply message"

gpu0=$(ls "$ROOT/sys/class/mdev_bus" | sort | head -1)
kept=$(vgpus | awk -v g="$gpu0" '$3 == g {print $1}' | head -2)
sim_reset
dm apply -f "$CFG" -c two
expect_rc 0 "apply two"
expect_eq "$(sim_counter remove_ok)" 4 "four -> two removes 2 per GPU"
expect_eq "$(sim_counter create_ok)" 0 "four -> two creates nothing"
now=$(vgpus | awk -v g="$gpu0" '$3 == g {print $1}')
expect_eq "$now" "$kept" "the two lowest UUIDs on GPU 0 are kept"

g0_before=$(vgpus | awk -v g="$gpu0" '$3 == g')
sim_reset
dm apply -f "$CFG" -c split
expect_rc 0 "apply split"
expect_eq "$(vgpus | awk -v g="$gpu0" '$3 == g')" "$g0_before" "GPU 0 already matched: untouched"
expect_eq "$(sim_counter remove_ok) $(sim_counter create_ok)" "2 2" "GPU 1: 2 removed, 2 created"

# A GPU no entry selects is left alone by apply and ignored by assert.
g1=$(vgpus | awk -v g="$gpu0" '$3 != g')
dm apply -f "$CFG" -c only-first
expect_rc 0 "apply only-first"
expect_eq "$(vgpus | awk -v g="$gpu0" '$3 != g')" "$g1" "unselected GPU 1 untouched"
dm assert -f "$CFG" -c only-first
expect_rc 0 "assert ignores unselected GPU"
finish

#!/bin/bash
# The command-line contract: flags, environment variables, stdin, -c omitted,
# --valid-config, help and version, usage errors.
. "$(dirname "$0")/lib.sh"
sim_start --gpu T4 --gpu T4
CFG="$DATA/upstream/upstream-config-t4.yaml"
ONE="$T_TMP/one.yaml"
cat >"$ONE" <<'YAML'
version: v1
vgpu-configs:
  T4-1Q:
  - devices: all
    vgpu-devices:
      "T4-1Q": 16
YAML

# stdin, as in upstream's README
dm apply -f - <"$ONE"
expect_rc 0 "apply -f - with one label and no -c"
expect_eq "$(vgpu_types)" "32 T4-1Q" "stdin config applied"
dm assert -f - <"$ONE"
expect_rc 0 "assert -f -"

# environment variables
VGPU_DM_CONFIG_FILE="$CFG" VGPU_DM_SELECTED_CONFIG=T4-8Q dm apply
expect_rc 0 "apply from VGPU_DM_CONFIG_FILE and VGPU_DM_SELECTED_CONFIG"
expect_eq "$(vgpu_types)" "4 T4-8Q" "env-selected label applied"
VGPU_DM_CONFIG_FILE="$CFG" dm assert -c T4-8Q
expect_rc 0 "env file, flag label"
VGPU_DM_SELECTED_CONFIG=T4-1Q dm assert -f "$CFG" -c T4-8Q
expect_rc 0 "flag overrides environment"
VGPU_DM_VALID_CONFIG=true dm assert -f "$CFG" -c T4-16Q
expect_rc 0 "VGPU_DM_VALID_CONFIG=true only validates"
expect_err "Selected vGPU device configuration is valid" "valid-config message"
VGPU_DM_DEBUG=1 dm assert -f "$CFG" -c T4-8Q
expect_err "^DEBU\[[0-9]{4}\] " "VGPU_DM_DEBUG=1 enables debug lines"
dm -d assert -f "$CFG" -c T4-8Q
expect_err "^DEBU\[" "-d before the command enables debug lines"
dm assert -f "$CFG" -c T4-8Q
if grep -q DEBU "$ERR"; then fail "no debug lines by default"; else pass "no debug lines by default"; fi

# flag spellings Go's flag package accepts
dm assert --config-file="$CFG" --selected-config=T4-8Q
expect_rc 0 "--name=value"
dm assert -config-file "$CFG" -selected-config T4-8Q
expect_rc 0 "-name value"
dm assert -f "$CFG" -c T4-16Q --valid-config
expect_rc 0 "--valid-config"
dm assert -f "$CFG" -c T4-16Q -a
expect_rc 0 "-a"

# usage errors: one line, exit 1, nothing changed
before=$(vgpus)
dm apply -c T4-1Q
expect_rc 1 "missing -f"
expect_err "missing required flags 'config-file'" "missing -f message"
dm apply -f "$CFG"
expect_rc 1 "several labels and no -c"
expect_err "missing required flag 'selected-config' when more than one config available" "no -c message"
dm apply -f "$CFG" -c nope
expect_rc 1 "unknown label"
expect_err "selected vgpu-config not present: nope" "unknown label message"
dm apply -f "$T_TMP/missing.yaml" -c x
expect_rc 1 "missing file"
expect_err "missing.yaml: No such file or directory" "missing file message"
dm apply -f "$CFG" -c T4-1Q --bogus
expect_rc 1 "unknown flag"
expect_err "flag provided but not defined: -bogus" "unknown flag message"
dm frobnicate
expect_rc 1 "unknown command"
VGPU_DM_VALID_CONFIG=maybe dm assert -f "$CFG" -c T4-1Q
expect_rc 1 "bad boolean in environment"
dm apply -f "$CFG" -c T4-1Q --lock-timeout soon
expect_rc 1 "bad --lock-timeout"
expect_err "invalid value \"soon\" for --lock-timeout: seconds from 0 to 3600" "--lock-timeout message"
dm apply -f "$CFG" -c T4-1Q --sriov-timeout 9999
expect_rc 1 "bad --sriov-timeout"
expect_err "invalid value \"9999\" for --sriov-timeout: seconds from 0 to 3600" "--sriov-timeout message"
dm export -l ""
expect_rc 1 "empty export label"
expect_err "the label must not be empty" "empty label message"
expect_eq "$(vgpus)" "$before" "usage errors change nothing"

# help and version
for c in apply assert list; do
	dm "$c" --help
	expect_rc 0 "$c --help"
	expect_out "^USAGE:" "$c --help prints usage"
	dm help "$c"
	expect_rc 0 "help $c"
done
dm --help
expect_rc 0 "--help"
expect_out "apply" "--help lists apply"
expect_out "sysfs-root" "--help lists --sysfs-root"
dm --version
expect_rc 0 "--version"
expect_out "^nvidia-vgpu-dm version [0-9]" "--version text"
dm
expect_rc 0 "no arguments shows help"

# --sysfs-root flag instead of the environment
dm_at "$T_TMP/elsewhere" --sysfs-root "$ROOT" assert -f "$CFG" -c T4-8Q
expect_rc 0 "--sysfs-root flag"
finish

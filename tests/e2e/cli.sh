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
# A well-formed name no catalogue knows for its model is not valid either.
printf 'version: v1\nvgpu-configs:\n  a:\n    - devices: all\n      vgpu-devices:\n        T4-3Q: 4\n  b:\n    - devices: all\n      vgpu-devices:\n        T4-4Q: 4\n' >"$T_TMP/t43.yaml"
dm assert -a -f "$T_TMP/t43.yaml" -c a
expect_rc 1 "-a: T4-3Q is no T4 type"
expect_err "^FATA\[0000\] error parsing config file: $T_TMP/t43.yaml:6:9: vGPU type 'T4-3Q' is not a T4 type in the catalogue; did you mean T4-1Q or T4-2Q or T4-4Q\?$" "file:line:col and the closest names"
dm assert -a -f "$T_TMP/t43.yaml" -c b
expect_rc 0 "-a: another label of the file is judged on its own"

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
dm apply -f "$CFG" -c T4-1Q --enable-sriov --sriov-timeout 9999
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
# --sriov-timeout means nothing without --enable-sriov: refused, not ignored.
dm apply -f "$CFG" -c T4-1Q --sriov-timeout 5
expect_rc 1 "--sriov-timeout without --enable-sriov"
expect_err "^FATA\[0000\] --sriov-timeout goes with --enable-sriov \(see 'nvidia-vgpu-dm apply --help'\)$" "says what it goes with"

# Help lists each option once; help for an unknown command fails.
"$VGPU_DM" --help >"$OUT" 2>"$ERR"
expect_eq "$(grep -c -- '--help, -h' "$OUT") $(grep -c -- '--version, -v' "$OUT")" "1 1" "--help and --version listed once"
"$VGPU_DM" apply --help >"$OUT" 2>"$ERR"
expect_eq "$(grep -c -- '--help, -h' "$OUT")" 1 "apply --help lists --help once"
"$VGPU_DM" help bogus >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "help bogus"
expect_err "^No help topic for 'bogus'$" "help bogus says so"
"$VGPU_DM" help apply >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "help apply"

# An unknown label: escaped (no forged log line), and the file's labels listed.
dm assert -f "$CFG" -c "$(printf 'nope\nFATA[0000] forged')"
expect_rc 1 "unknown label"
expect_eq "$(wc -l <"$ERR")" 1 "one line, whatever the label holds"
expect_err "selected vgpu-config not present: \"nope\\\\nFATA\[0000\] forged\"; .*upstream-config-t4.yaml has: T4-1Q, T4-2Q, T4-4Q, T4-8Q, T4-16Q, T4-small, T4-medium, T4-large$" "label escaped, labels listed"
dm apply -f "$CFG" -c nope
expect_err "selected vgpu-config not present: nope; .* has: T4-1Q," "apply lists the labels too"
# A label in the wrong case or mistyped: the closest labels by edit distance.
dm apply -f "$CFG" -c T4-4q
expect_rc 1 "a label in the wrong case"
expect_err "not present: T4-4q; did you mean T4-4Q\? .*upstream-config-t4.yaml has: T4-1Q," "did you mean T4-4Q"
dm apply -f "$CFG" -c T4-smal
expect_err "not present: T4-smal; did you mean T4-small\? " "did you mean T4-small"
dm apply -f "$CFG" -c zzzzzzzzz
expect_err "not present: zzzzzzzzz; [^ ]*upstream-config-t4.yaml has" "nothing close: no suggestion"
# Upstream's example has 711 labels for every GPU: this host's (T4) come first.
dm apply -f "$DATA/upstream/upstream-config-example.yaml" -c t4-4q
expect_err "not present: t4-4q; did you mean T4-4Q\? .*upstream-config-example.yaml has, for this host's GPUs: T4-1Q, T4-2Q, .*T4-16Q, .*; others: [^;]*, \.\.\. \(711 labels\)$" "labels for this host's GPUs first"

# assert without a host to read says why without -d; a file as root says so.
mkdir -p "$T_TMP/empty"
dm_at "$T_TMP/empty" assert -f "$CFG" -c T4-1Q
expect_rc 1 "assert on an empty root"
expect_err "^ERRO\[0000\] cannot read $T_TMP/empty/sys/bus/pci/devices: No such file or directory" "the cause, without -d"
expect_err "^FATA\[0000\] Assertion failure: selected configuration not currently applied$" "then upstream's line"
touch "$T_TMP/afile"
for cmd in list export "assert -f $CFG -c T4-1Q" "apply -f $CFG -c T4-1Q"; do
	# shellcheck disable=SC2086
	dm_at "$T_TMP/afile" $cmd
	expect_rc 1 "${cmd%% *} with a regular file as root"
	expect_err "the root $T_TMP/afile \(--sysfs-root\) is not a directory" "${cmd%% *}: says the root is not a directory"
done
finish

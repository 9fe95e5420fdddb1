#!/bin/bash
# plan's property (issue 17 §5): for every model `vgpu-sim --list-models`
# prints, on each of its frameworks, and for every plan mode,
# `plan MODE | apply -f -` on that model's simulated host (wired up with
# `eval "$(vgpu-sim --env MOUNT)"`, as the README says) succeeds and the
# planned file asserts; or plan refuses, exit non-zero, nothing on stdout and
# a line `plan: ...` on stderr saying why. Layouts are applied one after
# another on the same host (change only what differs).
# Offline plans (second section): `plan --gpu MODEL MODE`, from the catalogue,
# piped into apply on the same simulated host: applies; or plan refuses with
# a reason; or plan's stderr has a line `otherwise: nvidia-vgpu-dm plan ...`
# (a type the host driver may not list) and that command piped into apply
# succeeds, or refuses saying why.
# The first argument, mdev or vfio, runs only that framework (meson runs one
# test each; "" both); more arguments name the models to run (default all).
. "$(dirname "$0")/lib.sh"
ONLY_FW=${1:-}
shift $(($# > 0))
ONLY_MODELS=" $* "
CFG="$T_TMP/plan.yaml"
PERR="$T_TMP/plan.err"
HOST_CFG="$T_TMP/host-plan.yaml"
MODEL="" FW=""

# The plan modes: sizes chosen so that some fit a 16 GB GPU and some need 48
# GB or more, some fill a GPU and some are refused. --profile and --mig are
# added per model (profile_modes, mig_modes); --mixed-size is run on a host in
# mixed-size mode too (MIXED).
MODES=(
	"--vms 4"
	"--vms 6 --memory 8"
	"--vms 6 --memory 8 --cuda"
	"--vms 2 --memory 4 --use compute"
	"--vms 4 --memory 2 --use desktop"
	"--vms 3 --memory 4 --use apps"
	"--fill --memory 4 --use workstation"
	"--vms 1 --memory 8 --vms 4 --memory 2"
)
MIXED=(
	"--mixed-size --vms 1 --memory 8 --vms 4 --memory 2"
	"--mixed-size --vms 2 --memory 4 --vms 2 --memory 12"
)
# --profile with a type the host lists (the simulator's driver lists): the
# first listed, and the last (a MIG-backed one on MIG models).
profile_modes() {
	local t
	t=$(awk '{print $NF}' "$ROOT"/.vgpu-sim/gpus/*/types | awk '!seen[$0]++')
	echo "--fill --profile $(head -1 <<<"$t")"
	echo "--vms 1 --profile $(tail -1 <<<"$t")"
}
# --mig on models whose GPUs have MIG (gi_profiles in the simulator).
mig_modes() {
	ls "$ROOT"/.vgpu-sim/gpus/*/gi_profiles >/dev/null 2>&1 || return 0
	echo "--vms 2 --memory 10 --mig"
	echo "--fill --memory 20 --mig --cuda"
}

# Run "$@" (an nvidia-vgpu-dm plan command line) piped into apply -f -;
# PLAN_RC and RC are the exit codes, the plan in $CFG, plan's stderr in $PERR.
plan_apply() {
	"$VGPU_DM" "$@" 2>"$PERR" | tee "$CFG" | "$VGPU_DM" apply -f - >"$OUT" 2>"$ERR"
	local st=("${PIPESTATUS[@]}")
	PLAN_RC=${st[0]} RC=${st[2]}
}
sanitizers() { # sanitizers FILE...: a report in any fails the case
	! grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$@"
}
# A plan that refused: non-zero, nothing on stdout, `plan: <why>` on stderr.
refused() {
	[ "$PLAN_RC" -ne 0 ] && [ ! -s "$CFG" ] && grep -qE '(^|\] )plan: .+' "$PERR"
}
# A plan applied: both exit 0, and the planned file asserts.
applied() {
	[ "$PLAN_RC" -eq 0 ] && [ "$RC" -eq 0 ] || return 1
	"$VGPU_DM" assert -f "$CFG" >"$T_TMP/assert.out" 2>"$T_TMP/assert.err"
	ARC=$?
	[ "$ARC" -eq 0 ] && sanitizers "$T_TMP/assert.err"
}
report() { # report WHAT: the case failed; say everything
	T_CHECKS=$((T_CHECKS + 1)) T_FAILS=$((T_FAILS + 1))
	echo "not ok - $MODEL:$FW $1: plan exit $PLAN_RC, apply exit $RC, assert exit $ARC"
	sed 's/^/  plan stderr: /' "$PERR" | tail -15
	sed 's/^/  plan stdout: /' "$CFG" | head -30
	sed 's/^/  apply stderr: /' "$ERR" | tail -10
	[ "$ARC" = - ] || sed 's/^/  assert stderr: /' "$T_TMP/assert.err" | tail -10
}
note() { # note WHAT HOW: the case holds
	T_CHECKS=$((T_CHECKS + 1))
	echo "ok - $MODEL:$FW $1: $2"
}

# Section 1: plan on the host. prop_host MODE...
prop_host() {
	local what="plan $*"
	ARC=-
	rm -f "$HOST_CFG"
	plan_apply plan "$@"
	if ! sanitizers "$PERR" "$ERR"; then report "$what: sanitizer report"
	elif refused; then note "$what" "refused: $(grep -E '(^|\] )plan: ' "$PERR" | head -1 | sed 's/^.*plan: /plan: /')"
	elif applied; then note "$what" "applied, asserts"; cp "$CFG" "$HOST_CFG"
	else report "$what"
	fi
}

# Section 2: plan offline (--gpu MODEL, the catalogue), applied on the host.
prop_offline() {
	local what="plan --gpu $MODEL $*" alt
	ARC=- RC=-
	# plan first, the pipe into apply only when its output is new (time)
	"$VGPU_DM" plan --gpu "$MODEL" "$@" >"$CFG" 2>"$PERR"
	PLAN_RC=$?
	: >"$ERR"
	if ! sanitizers "$PERR"; then report "$what: sanitizer report"; return; fi
	if refused; then note "$what" "refused offline: $(grep -E '(^|\] )plan: ' "$PERR" | head -1 | sed 's/^.*plan: /plan: /')"; return; fi
	if [ "$PLAN_RC" -eq 0 ] && cmp -s "$CFG" "$HOST_CFG"; then
		# the same bytes the host's plan gave, applied and asserted just
		# before (from the layout of the mode before): not again (time)
		note "$what" "the host's plan, byte for byte"
		return
	fi
	# shellcheck disable=SC2002 # a pipe, as `plan | apply -f -`
	cat "$CFG" | "$VGPU_DM" apply -f - >"$OUT" 2>"$ERR"
	RC=$?
	if ! sanitizers "$ERR"; then report "$what: sanitizer report"; return; fi
	if applied; then note "$what" "applied, asserts"; return; fi
	# The host does not take it: plan must have said what to run instead.
	alt=$(sed -n 's/^\(.*\] \)\{0,1\}otherwise: [^ ]*nvidia-vgpu-dm //p' "$PERR" | head -1)
	if [ -z "$alt" ]; then report "$what (no otherwise: line)"; return; fi
	local first_rc="$PLAN_RC/$RC/$ARC"
	ARC=-
	# shellcheck disable=SC2086 # the alternative's arguments, split on spaces
	plan_apply $alt
	if ! sanitizers "$PERR" "$ERR"; then report "$what; otherwise $alt: sanitizer report"
	elif applied; then note "$what" "($first_rc) otherwise: $alt: applied, asserts"
	elif refused; then note "$what" "($first_rc) otherwise: $alt: refused: $(grep -E '(^|\] )plan: ' "$PERR" | head -1 | sed 's/^.*plan: /plan: /')"
	else report "$what; otherwise $alt"
	fi
}

restart() { # restart [vgpu-sim option]: a fresh host of this model
	mountpoint -q "$ROOT" && fusermount3 -u "$ROOT"
	sim_start --gpu "$MODEL:$FW" "$@"
	sim_env
}
# Both sections, mode by mode on one host: on the host, then offline (the
# host then holds the offline plan's layout, which the next mode changes).
# An offline --mixed-size plan that mixes sizes says to switch the GPU to
# mixed-size mode first: those run on a host in that mode (OFFLINE_MIXED=1).
run_modes() {
	local m
	for m in "$@"; do
		# shellcheck disable=SC2086 # a mode is its words
		prop_host $m
		case "$m" in --mixed-size*) [ "$OFFLINE_MIXED" = 1 ] || continue ;; esac
		# shellcheck disable=SC2086
		prop_offline $m
	done
}

while read -r MODEL fws; do
	[ "$ONLY_MODELS" = "  " ] || case "$ONLY_MODELS" in *" $MODEL "*) ;; *) continue ;; esac
	for FW in $fws; do
		[ -z "$ONLY_FW" ] || [ "$FW" = "$ONLY_FW" ] || continue
		restart
		OFFLINE_MIXED=1 # no mixed-size mode on this model: it never mixes sizes
		for f in "$ROOT"/.vgpu-sim/gpus/*/mixed_size; do [ -e "$f" ] && OFFLINE_MIXED=0; break; done
		mapfile -t modes < <(printf '%s\n' "${MODES[@]}" "${MIXED[@]}"; profile_modes; mig_modes)
		run_modes "${modes[@]}"
		# mixed sizes on a GPU in mixed-size mode (SR-IOV models: the
		# simulator has it there); offline plans say to switch to it first
		[ "$OFFLINE_MIXED" = 0 ] || continue
		restart --mixed-size
		OFFLINE_MIXED=1
		run_modes "${MIXED[@]}"
	done
done < <("$VGPU_SIM" --list-models)
[ "$ONLY_MODELS" != "  " ] || [ "$T_CHECKS" -gt 150 ] || fail "only $T_CHECKS cases ran"
finish

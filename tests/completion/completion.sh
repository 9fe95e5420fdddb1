#!/bin/bash
# The bash completions (completions/): loaded the way bash-completion loads
# them, each completion function is called with COMP_WORDS/COMP_CWORD/COMP_LINE
# set as readline sets them, and COMPREPLY is compared with what is expected.
# The programs come from the build (the PROGRAMs; VGPU_DM and VGPU_SIM name
# two of them), found through PATH under their own names, as on an installed
# system; COMPLETIONS-DIR has each one's completion file, named as it.
# usage: completion.sh COMPLETIONS-DIR PROGRAM...
set -uo pipefail
export LC_ALL=C

: "${VGPU_DM:?}" "${VGPU_SIM:?}"
COMPDIR=${1:?usage: completion.sh COMPLETIONS-DIR PROGRAM...}
shift
SRC=$(realpath "${VGPUDM_SRCDIR:-.}")
VGPU_DM=$(realpath "$VGPU_DM") VGPU_SIM=$(realpath "$VGPU_SIM") COMPDIR=$(realpath "$COMPDIR")
BC=/usr/share/bash-completion/bash_completion
T=$(mktemp -d "${TMPDIR:-/tmp}/vgpudm-comp.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0 checks=0
ok() { checks=$((checks + 1)); echo "ok - $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "not ok - $*"; }
eq() { # eq ACTUAL EXPECTED what
	if [ "$1" == "$2" ]; then ok "$3"; else bad "$3: got '$1', expected '$2'"; fi
}

if [ ! -r "$BC" ]; then
	echo "FATAL: $BC missing (Debian package bash-completion, see scripts/install-deps)" >&2
	exit 1
fi
# shellcheck disable=SC1090
. "$BC"
mkdir -p "$T/bin"
for p in "$@"; do
	ln -s "$(realpath "$p")" "$T/bin/$(basename "$p")"
	# shellcheck disable=SC1090
	. "$COMPDIR/$(basename "$p")"
done
export PATH="$T/bin:$PATH"

# complete LINE: run the completion for LINE (cursor at its end) and set
# $got to the sorted candidates, space-separated. Words are split as readline
# splits them: at blanks, and at the COMP_WORDBREAKS characters = and :
# (a run of them is a word of its own).
complete_line() {
	local line=$1 w rest
	local -a cw=()
	for w in $line; do
		rest=$w
		while [ -n "$rest" ]; do
			if [[ $rest =~ ^([=:]+)(.*)$ || $rest =~ ^([^=:]+)(.*)$ ]]; then
				cw+=("${BASH_REMATCH[1]}")
				rest=${BASH_REMATCH[2]}
			fi
		done
	done
	[[ $line == *" " ]] && cw+=("")
	COMP_WORDS=("${cw[@]}")
	COMP_CWORD=$((${#cw[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	local fn
	fn=$(complete -p "$(basename "${cw[0]}")" 2>/dev/null | sed -n 's/.*-F \([^ ]*\).*/\1/p')
	if [ -z "$fn" ]; then
		got="<no completion for ${cw[0]}>"
		return
	fi
	"$fn" "${cw[0]}" "${cw[COMP_CWORD]}" "${cw[COMP_CWORD - 1]}"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | paste -sd' ')
}
expect() { # expect LINE EXPECTED
	complete_line "$1"
	eq "$got" "$2" "'$1' completes to: $2"
}

# --- registration -----------------------------------------------------------------------------
eq "$(complete -p nvidia-vgpu-dm)" "complete -F _nvidia_vgpu_dm nvidia-vgpu-dm" "complete -p nvidia-vgpu-dm"
eq "$(complete -p vgpu-sim)" "complete -F _vgpu_sim vgpu-sim" "complete -p vgpu-sim"

# --- nvidia-vgpu-dm: commands and options, from its --help ------------------------------------
cmds=$("$VGPU_DM" --help | sed -n '/^COMMANDS:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | sort | xargs echo)
case " $cmds " in
*" apply "*) case " $cmds " in *" assert "*) ok "--help lists the commands ($cmds)" ;;
	*) bad "--help lists assert: '$cmds'" ;; esac ;;
*) bad "--help lists apply: '$cmds'" ;;
esac
expect "nvidia-vgpu-dm " "$cmds"
expect "nvidia-vgpu-dm ap" "apply"
expect "nvidia-vgpu-dm as" "assert"
expect "nvidia-vgpu-dm --" "--debug --help --sysfs-root --version"
expect "nvidia-vgpu-dm -d --sysfs-root /tmp l" "list"
expect "nvidia-vgpu-dm help " "$cmds"
expect "nvidia-vgpu-dm apply --dr" "--dry-run"
expect "nvidia-vgpu-dm apply --uuid-seed " "machine-id"
expect "nvidia-vgpu-dm apply --lock-timeout " ""
expect "nvidia-vgpu-dm assert --" "--config-file --debug --help --selected-config --valid-config"
expect "nvidia-vgpu-dm list --" "--debug --help --json"
expect "nvidia-vgpu-dm export -" "--debug --help --json --label -d -h -l"

# a command that is not there yet needs nothing in the completion: a stand-in
# program whose --help (in nvidia-vgpu-dm's format) has a new command "size"
mkdir -p "$T/fake"
cat >"$T/fake/nvidia-vgpu-dm" <<'SH'
#!/bin/bash
if [ "$1" = --help ]; then
	printf 'COMMANDS:\n   apply    Apply\n   size     Size\n   help     Help\n\nGLOBAL OPTIONS:\n'
	printf '   --sysfs-root DIR                     Root\n'
elif [ "$1" = size ]; then
	printf 'OPTIONS:\n   --series C|Q|A|B                     vGPU series\n'
	printf '   --config-file FILE, -f FILE          File\n   --label NAME, -l NAME                Label\n'
fi
SH
chmod +x "$T/fake/nvidia-vgpu-dm"
expect "$T/fake/nvidia-vgpu-dm s" "size"
expect "$T/fake/nvidia-vgpu-dm size --" "--config-file --label --series"
expect "$T/fake/nvidia-vgpu-dm size --series " "A B C Q"
expect "$T/fake/nvidia-vgpu-dm size -l " ""

# --- labels of the -f file ----------------------------------------------------------------
cat >"$T/c.yaml" <<'YAML'
# comments, quoted keys, a flow value, a nested mapping that is not a label,
# and a key that would run a command if anything evaluated it
version: v1
vgpu-configs:
  # a comment line
  T4-small:                    # a label
    - devices: [0]
      vgpu-devices:
        "T4-1Q": 16
  "T4 quoted":
    - devices: all
      vgpu-devices: {}
  default: [ {devices: all, vgpu-devices: {}} ]
  $(touch PWNED):
    - devices: all
      vgpu-devices: {}
other:
  not-a-label: 1
YAML
cd "$T" || exit 1
expect "nvidia-vgpu-dm apply -f c.yaml -c " 'T4-small T4\ quoted \$\(touch\ PWNED\) default'
if [ -e "$T/PWNED" ]; then bad "nothing in the config file is executed"; else ok "nothing in the config file is executed"; fi
expect "nvidia-vgpu-dm apply -f c.yaml -c T4" "T4-small T4\ quoted"
expect "nvidia-vgpu-dm apply --config-file=c.yaml --selected-config=d" "default"
expect "nvidia-vgpu-dm apply -config-file c.yaml -c d" "default"
expect "nvidia-vgpu-dm --sysfs-root /x assert -f c.yaml -d -c d" "default"
expect "nvidia-vgpu-dm apply -f nonexistent.yaml -c " ""
expect "nvidia-vgpu-dm apply -f - -c " ""
expect "nvidia-vgpu-dm doctor -f c.yaml -c T4-" "T4-small"
expect "nvidia-vgpu-dm doctor --" "--config-file --cuda --debug --guest --help --host --json --selected-config"
expect "nvidia-vgpu-dm plan --series " "A B C Q"
expect "nvidia-vgpu-dm plan --vms 4 --mi" "--mig --mixed-size"
VGPU_DM_CONFIG_FILE=c.yaml
expect "nvidia-vgpu-dm assert -c T4-s" "T4-small"
unset VGPU_DM_CONFIG_FILE
printf '{"version": "v1", "vgpu-configs": {"current": [{"devices": [0], "vgpu-devices": {"T4-4Q": 4}}], "two, words": []}}\n' >"$T/c.json"
expect "nvidia-vgpu-dm apply -f c.json -c " "current two\,\ words"
printf 'version: v1\r\nvgpu-configs:\r\n    crlf-label:\r\n      - devices: all\r\n        vgpu-devices: {}\r\n' >"$T/crlf.yaml"
expect "nvidia-vgpu-dm apply -f crlf.yaml -c " "crlf-label"

# every label offered for upstream's example is one the tool accepts, and none is missed
complete_line "nvidia-vgpu-dm assert -f $SRC/examples/config-t4.yaml -c "
n=0 badl=""
for l in $got; do
	n=$((n + 1))
	"$VGPU_DM" assert -a -f "$SRC/examples/config-t4.yaml" -c "$l" 2>/dev/null || badl+=" $l"
done
eq "$badl" "" "every label offered for examples/config-t4.yaml is valid (assert -a)"
eq "$n" "$(grep -cE '^  [^ #-]' "$SRC/examples/config-t4.yaml")" "every label of examples/config-t4.yaml is offered"

# --- files and directories -------------------------------------------------------------------
mkdir -p "$T/files/sub"
: >"$T/files/a.yaml"
: >"$T/files/b.txt"
: >"$T/files/host.tar.gz"
cd "$T/files" || exit 1
expect "nvidia-vgpu-dm apply -f " "a.yaml sub"
expect "nvidia-vgpu-dm capture --" "--debug --help --max-size --output --redact --timeout"
expect "nvidia-vgpu-dm capture -o " "host.tar.gz sub"
expect "vgpu-sim --replay " "host.tar.gz sub"
expect "nvidia-vgpu-dm --sysfs-root " "sub"
cd "$T" || exit 1

# --- vgpu-sim ----------------------------------------------------------------------------
models=$("$VGPU_SIM" --list-models | awk '{ print $1 }' | sort | xargs echo)
case " $models " in
*" T4 "*" "*) ok "vgpu-sim --list-models lists models ($models)" ;;
*) bad "vgpu-sim --list-models: '$models'" ;;
esac
expect "vgpu-sim --gpu " "$models"
expect "vgpu-sim -g L4" "L4 L40S"
expect "vgpu-sim --gpu 2xA1" "2xA10 2xA100 2xA100D 2xA16"
expect "vgpu-sim --gpu L40S:" "mdev vfio"
expect "vgpu-sim --gpu T4:" "mdev"
expect "vgpu-sim --gpu 4xA16:v" "vfio"
expect "vgpu-sim --framework " "mdev vfio"
expect "vgpu-sim --li" "--list-models"
expect "vgpu-sim --f" "--foreground --framework"
cd "$T/files" || exit 1
expect "vgpu-sim --gpu T4 " "sub"
cd "$T" || exit 1

# --- nvidia-k8s-vgpu-dm: options from its --help, values by option ---------------------------
eq "$(complete -p nvidia-k8s-vgpu-dm)" "complete -F _nvidia_k8s_vgpu_dm nvidia-k8s-vgpu-dm" "complete -p nvidia-k8s-vgpu-dm"
expect "nvidia-k8s-vgpu-dm --node" "--node-name"
expect "nvidia-k8s-vgpu-dm --with-" "--with-reboot --with-shutdown-host-gpu-clients"
expect "nvidia-k8s-vgpu-dm --ns " ""
expect "nvidia-k8s-vgpu-dm --with-reboot --def" "--default-vgpu-config"
expect "nvidia-k8s-vgpu-dm -f c.yaml -d " 'T4-small T4\ quoted \$\(touch\ PWNED\) default'
expect "nvidia-k8s-vgpu-dm --config-file=c.json --default-vgpu-config=c" "current"
CONFIG_FILE=c.yaml
expect "nvidia-k8s-vgpu-dm -n node1 -d d" "default"
unset CONFIG_FILE
cd "$T/files" || exit 1
expect "nvidia-k8s-vgpu-dm --host-root-mount " "sub"
expect "nvidia-k8s-vgpu-dm --kubeconfig " "a.yaml b.txt host.tar.gz sub"
cd "$T" || exit 1
if [ -e "$T/PWNED" ]; then bad "nothing in the config file is executed (agent)"; else ok "nothing in the config file is executed (agent)"; fi

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]

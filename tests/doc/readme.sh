#!/bin/bash
# The README's commands run as written. Every ```sh block that follows a line
# "<!-- runnable -->" is taken, in order, as one shell session (a user typing
# them into one terminal), and run with `bash -e -o pipefail` in a fresh
# directory that looks like the top of the tree after `make`: build/cli and
# build/sim are this build's, examples/ the source's. The environment is a
# user's (no variable of the test suite), TMPDIR is private, so the
# simulator's mounts land in this test's directory; a mount left behind when
# the walk ends is a failure (the README cleans up after itself).
set -uo pipefail
export LC_ALL=C
: "${VGPU_DM:?VGPU_DM must name the nvidia-vgpu-dm binary}"
: "${VGPU_SIM:?VGPU_SIM must name the vgpu-sim binary}"
SRC=$(realpath "${VGPUDM_SRCDIR:-.}")
README=${1:-$SRC/README.md}

T=$(mktemp -d "${TMPDIR:-/tmp}/vgpudm-readme.XXXXXX")
mounts() { awk -v t="$T/" 'index($2, t) == 1 {print $2}' /proc/self/mounts; }
cleanup() {
	local m
	for m in $(mounts); do fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m"; done
	rm -rf "$T"
}
trap cleanup EXIT
fails=0 checks=0
ok() { checks=$((checks + 1)); echo "ok - $*"; }
notok() { checks=$((checks + 1)); fails=$((fails + 1)); echo "not ok - $*"; }

# The runnable blocks, and a marker that is not followed by a ```sh block.
python3 - "$README" "$T/walk.sh" <<'PY' || { echo "not ok - $README: a runnable marker without a \`\`\`sh block after it"; exit 1; }
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
lines = text.splitlines()
blocks, bad = [], []
for i, line in enumerate(lines):
    if line.strip() != "<!-- runnable -->":
        continue
    if i + 1 >= len(lines) or lines[i + 1].strip() != "```sh":
        bad.append(i + 1)
        continue
    end = next((j for j in range(i + 2, len(lines)) if lines[j].strip() == "```"), None)
    if end is None:
        bad.append(i + 1)
        continue
    blocks.append((i + 3, lines[i + 2:end]))
for n in bad:
    print(f"{sys.argv[1]}:{n}: <!-- runnable --> must be followed by a ```sh block", file=sys.stderr)
with open(sys.argv[2], "w") as f:
    for start, body in blocks:
        f.write(f"# README.md line {start}\n" + "\n".join(body) + "\n")
print(len(blocks))
sys.exit(1 if bad else 0)
PY
n=$(grep -c '^# README.md line' "$T/walk.sh")
if [ "$n" -ge 3 ]; then ok "README.md has $n runnable blocks"; else notok "README.md has $n runnable blocks, expected the simulator walk"; fi

# The top of a tree after `make`, with this build's programs.
W="$T/tree"
mkdir -p "$W/build" "$T/tmp" "$T/home"
ln -s "$(dirname "$(realpath "$VGPU_DM")")" "$W/build/cli"
ln -s "$(dirname "$(realpath "$VGPU_SIM")")" "$W/build/sim"
ln -s "$SRC/examples" "$W/examples"

(cd "$W" && env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$T/home" TMPDIR="$T/tmp" LC_ALL=C \
	${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} ${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS} \
	bash -e -o pipefail "$T/walk.sh") >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
	ok "the runnable blocks of README.md run as written (exit 0)"
else
	notok "the runnable blocks of README.md: exit $rc; the end of their output:"
	tail -25 "$T/out" | sed 's/^/    /'
fi
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T/out"; then
	notok "a sanitizer report in the walk's output"
	grep -E -A5 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T/out" | head -20
else
	ok "no sanitizer report"
fi
left=$(mounts)
if [ -z "$left" ]; then ok "the walk unmounts what it mounted"; else notok "mounts left behind: $left"; fi
echo "$((checks - fails)) of $checks checks passed"
[ $fails -eq 0 ]

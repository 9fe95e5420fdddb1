#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# scripts/gen-catalogue: the committed data passes; a broken row stops the
# build with file:line and what is wrong, and writes no output.
set -u
src=${VGPUDM_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
gen=$src/scripts/gen-catalogue
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }

if python3 "$gen" "$src/data/catalogue" "$tmp/out.c" && grep -q '"T4-8Q"' "$tmp/out.c"; then
	ok "committed catalogue generates"
else
	bad "committed catalogue generates"
fi

# broken FILE SED-EXPR EXPECTED-MESSAGE
broken() {
	local file=$1 expr=$2 want=$3 d=$tmp/data.$pass.$fail
	rm -rf "$d" "$tmp/bad.c"
	cp -r "$src/data/catalogue" "$d"
	sed -i "$expr" "$d/$file"
	local out
	out=$(cd "$tmp" && python3 "$gen" "$d" "$tmp/bad.c" 2>&1)
	local rc=$?
	if [ $rc -ne 0 ] && [ ! -e "$tmp/bad.c" ] && grep -qF -- "$want" <<<"$out"; then
		ok "$file: $want"
	else
		bad "$file: $want (rc $rc): $out"
	fi
}

broken vgpu-types.tsv 's/^T4\tT4-8Q\t233\tQ\t8192/T4\tT4-8Q\t233\tQ\t4096/' "vgpu-types.tsv:13: fb_mib 4096, but T4-8Q means 8192"
broken vgpu-types.tsv 's/^T4\tT4-8Q\t233\tQ/T4\tT4-8Q\t233\tC/' "vgpu-types.tsv:13: series C, but the name T4-8Q says Q"
broken vgpu-types.tsv 's/^T4\tT4-8Q\t233/T4\tT4-8Q\t232/' "vgpu-types.tsv:13: id 232 already at"
broken vgpu-types.tsv 's/^T4\tT4-8Q/T5\tT5-8Q/' "vgpu-types.tsv:13: model T5 is not in gpus.tsv"
broken vgpu-types.tsv 's/^T4\tT4-8Q/T4\tT4-4Q/' "vgpu-types.tsv:13: type T4-4Q already at"
broken vgpu-types.tsv 's/^T4\tT4-8Q\t233\tQ\t8192\t2/T4\tT4-8Q\t233\tQ\t8192\t0/' "vgpu-types.tsv:13: max: expected a whole number >= 1"
broken vgpu-types.tsv 's/^T4\tT4-8Q\t233\tQ\t8192\t2\t-/T4\tT4-8Q\t233\tQ\t8192\t2\t1g.5gb/' "time-sliced type T4-8Q has a GPU-instance profile"
broken vgpu-types.tsv 's/^T4\tT4-8Q\t233\tQ\t8192\t2/T4\tT4-8Q\t233\tQ\t8192\t2\t/' "vgpu-types.tsv:13: 10 cells, the header has 9"
broken vgpu-types.tsv '1s/\tmax\t/\tmaximum\t/' "vgpu-types.tsv:1: missing column(s) max"
broken vgpu-types.tsv 's/^T4\tT4-8Q\t233\tQ\t8192\t2\t-\toffered\t.*/&\nT4\tT4-1-8C\t-\tC\t8192\t1\t1g.8gb\t-\tguess/' "MIG-backed type T4-1-8C on T4, which is not MIG capable"
broken gpus.tsv 's/^T4\tTesla T4\t0x1EB8/T4\tTesla T4\t0x1EB/' "gpus.tsv:2: device_id: expected 0x and 4 hex digits"
broken gpus.tsv 's/^T4\t/V100\t/' "gpus.tsv:3: model V100 already at"
broken series.tsv '/^A\t/d' "needs one row for each of A, B, C and Q"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

# Shared by the doctor tests (after ../lib.sh): tools directories with
# stand-ins, guest fixture trees, and checks on doctor --json output.
DOCTOR_DIR="$VGPUDM_SRCDIR/tests/e2e/doctor"
DATA="$VGPUDM_SRCDIR/tests/data/doctor"
TOOLS="$T_TMP/tools"
export DOCTOR_FIXTURE="$T_TMP/fixture"
mkdir -p "$DOCTOR_FIXTURE/journal"

# tools NAME...: the tools directory holds exactly these (stand-ins; nvidia-smi
# is the simulator's on a host, the fixture's in a guest: tools_host/tools_guest).
tools() {
	rm -rf "$TOOLS"
	mkdir -p "$TOOLS"
	local t
	for t in "$@"; do
		ln -s "$DOCTOR_DIR/standin" "$TOOLS/$t"
	done
	export VGPU_DM_TOOLS_DIR="$TOOLS"
}
host_smi() { ln -sf "$VGPUDM_SRCDIR/sim/nvidia-smi" "$TOOLS/nvidia-smi"; export VGPU_SIM_ROOT="$ROOT"; }

# doctor_json ARGS...: run doctor --json against $ROOT.
doctor_json() { dm doctor --json "$@"; }

# check ID RESULT [REMEDY-REGEX] [TARGET-SUBSTRING]: the check is in $OUT with
# that result; a warn or fail has a remedy matching the regex, an ok one has
# none, a skip says why.
check() {
	local id=$1 want=$2 rem=${3:-} target=${4:-}
	if python3 - "$OUT" "$id" "$want" "$rem" "$target" <<'PY'; then pass "$id: $want${target:+ ($target)}"; else fail "$id: expected $want${target:+ on $target}${rem:+, remedy /$rem/}"; fi
import json, re, sys
out, cid, want, rem, target = sys.argv[1:6]
checks = json.load(open(out))
hits = [c for c in checks if c["id"] == cid and target in c["target"]]
if not hits:
    sys.exit("no check %s%s; ids: %s" % (cid, " on " + target if target else "", sorted({c["id"] for c in checks})))
c = hits[0]
ok = c["result"] == want
if want == "ok":
    ok = ok and c["remedy"] is None
elif want == "skip":
    ok = ok and c["summary"] != ""
else:
    ok = ok and c["remedy"] is not None and re.search(rem, c["remedy"]) is not None
for k in ("id", "target", "result", "summary", "evidence", "remedy"):
    ok = ok and k in c
if not ok:
    sys.exit("got %s" % json.dumps(c))
PY
}
# summary_has ID REGEX: the check's summary matches.
summary_has() {
	if python3 - "$OUT" "$1" "$2" <<'PY'; then pass "$1 says /$2/"; else fail "$1: summary lacks /$2/"; fi
import json, re, sys
c = [c for c in json.load(open(sys.argv[1])) if c["id"] == sys.argv[2]]
sys.exit(0 if c and re.search(sys.argv[3], c[0]["summary"]) else 1)
PY
}
# evidence_has ID REGEX: some evidence line ("source: line") of the check matches.
evidence_has() {
	if python3 - "$OUT" "$1" "$2" <<'PY'; then pass "$1 evidence /$2/"; else fail "$1: evidence lacks /$2/"; fi
import json, re, sys
c = [c for c in json.load(open(sys.argv[1])) if c["id"] == sys.argv[2]]
sys.exit(0 if c and any(re.search(sys.argv[3], e["source"] + ": " + e["line"]) for e in c[0]["evidence"]) else 1)
PY
}
# no_fail: no check failed, and every non-skip check is ok.
all_ok() {
	if python3 - "$OUT" <<'PY'; then pass "every check ok or skipped"; else fail "a check is not ok"; fi
import json, sys
bad = [c for c in json.load(open(sys.argv[1])) if c["result"] not in ("ok", "skip")]
if bad:
    sys.exit(json.dumps(bad, indent=1))
PY
}

# A TCP port on loopback that nothing listens on (bound, then closed).
closed_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# A listener on an ephemeral loopback port, in the background (not in a
# subshell: LISTENER_PID is killed at exit); sets PORT.
LISTENER_PID=
listen_port() {
	local f="$T_TMP/port"
	rm -f "$f"
	python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); __import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(1)
end = time.time() + 170
while time.time() < end:
    try: c, _ = s.accept(); c.close()
    except socket.timeout: pass
' "$f" >/dev/null 2>&1 &
	LISTENER_PID=$!
	local i
	for i in $(seq 200); do [ -s "$f" ] && break; sleep 0.05; done
	PORT=$(cat "$f")
}
trap '[ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null; cleanup' EXIT

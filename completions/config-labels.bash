# vgpu-dm bash completion, shared part: the labels of a config file.
# SPDX-License-Identifier: Apache-2.0
# meson puts this in front of each completion that completes labels
# (completions/meson.build), so that each installed file stands alone.

# _vgpu_dm_config_labels FILE: print the keys of the top-level "vgpu-configs"
# mapping of a vgpu-dm config file, one a line. Block style (any indentation,
# quoted keys, comments, CRLF, "---") and flow/JSON style ({"vgpu-configs":
# {"a": [...]}}, as "export --json" writes) are understood. Prints nothing
# for a file that cannot be read or has no such mapping.
_vgpu_dm_config_labels()
{
    [[ -f $1 && -r $1 ]] || return 0
    LC_ALL=C awk '
    function indent(s) { match(s, /^ */); return RLENGTH }
    function unquote(k,   q) {
        q = substr(k, 1, 1)
        if (q == "\"") { k = substr(k, 2, length(k) - 2); gsub(/\\"/, "\"", k); gsub(/\\\\/, "\\", k) }
        else if (q == "'\''") { k = substr(k, 2, length(k) - 2); gsub(/'\'''\''/, "'\''", k) }
        return k
    }
    # the key of a "key: ..." line (s starts at the key), or "" if none
    function key_of(s,   m) {
        if (match(s, /^"([^"\\]|\\.)*"[ \t]*:([ \t]|$)/) || match(s, /^'\''([^'\'']|'\'''\'')*'\''[ \t]*:([ \t]|$)/)) {
            m = substr(s, 1, RLENGTH); sub(/[ \t]*:[ \t]*$/, "", m); return unquote(m)
        }
        if (s ~ /^[-?:,\[\]{}#&*!|>%@`"'\'']/) return ""
        if (match(s, /^[^#]*[^ \t#]:([ \t]|$)/)) {
            m = substr(s, 1, RLENGTH); sub(/:[ \t]*$/, "", m)
            # the first ": " ends a plain key
            if (match(m, /:[ \t]/)) m = substr(m, 1, RSTART - 1)
            sub(/[ \t]+$/, "", m); return m
        }
        return ""
    }
    # flow style: print the keys at depth 1 of the {...} starting in buf at i
    function flow(buf, i,   n, c, depth, tok, inq, esc, expect_key, out) {
        n = length(buf); depth = 0; expect_key = 0; tok = ""; inq = ""
        for (; i <= n; i++) {
            c = substr(buf, i, 1)
            if (inq != "") {
                if (esc) { tok = tok c; esc = 0; continue }
                if (inq == "\"" && c == "\\") { esc = 1; continue }
                if (c == inq) { inq = ""; continue }
                tok = tok c; continue
            }
            if (c == "\"" || c == "'\''") { inq = c; continue }
            if (c == "{" || c == "[") { depth++; if (depth == 1) { expect_key = 1; tok = "" } ; continue }
            if (c == "}" || c == "]") { depth--; if (depth == 0) return; continue }
            if (depth == 1 && c == ",") { expect_key = 1; tok = ""; continue }
            if (depth == 1 && expect_key && c == ":") {
                sub(/^[ \t\n]+/, "", tok); sub(/[ \t\n]+$/, "", tok)
                if (tok != "") print tok
                expect_key = 0; tok = ""; continue
            }
            if (depth == 1 && expect_key) tok = tok c
        }
    }
    { sub(/\r$/, "") }
    state == "flow" { buf = buf "\n" $0; next }
    /^[ \t]*(#|$)/ || /^(---|\.\.\.)([ \t]|$)/ { next }
    state == "" {
        i = indent($0); s = substr($0, i + 1)
        k = key_of(s)
        if (k == "vgpu-configs" && (i == 0 || top == "" || i == top)) {
            rest = s; sub(/^("vgpu-configs"|'\''vgpu-configs'\''|vgpu-configs)[ \t]*:[ \t]*/, "", rest)
            if (rest ~ /^\{/) { state = "flow"; buf = rest; next }
            state = "block"; base = i; want = -1; next
        }
        if (k != "" && top == "") top = i
        # one-line flow document: {"version": "v1", "vgpu-configs": {...}}
        if (s ~ /^\{/ && match(s, /("vgpu-configs"|'\''vgpu-configs'\''|vgpu-configs)[ \t]*:[ \t]*\{/)) {
            state = "flow"; buf = substr(s, RSTART + RLENGTH - 1); next
        }
        next
    }
    state == "block" {
        i = indent($0)
        if (i <= base) exit
        if (want < 0) want = i
        if (i != want) next
        k = key_of(substr($0, i + 1))
        if (k != "") print k
        next
    }
    END { if (state == "flow") flow(buf, 1) }
    ' "$1" 2>/dev/null
}

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A man page (scdoc source) against its program's --help, so they cannot drift.

usage: man-help.py PAGE.scd BUILT-PAGE PROGRAM

- Options. In --help, an option is a line that starts (after spaces) with "-";
  its names are the "-x"/"--xxx" words of its first column (up to two spaces).
  In the man page, an option is a line starting with "*-" followed by a
  tab-indented description; its names are the words in *...* starting with "-".
- A program whose --help has a "COMMANDS:" list is a command program
  (nvidia-vgpu-dm): the man page's "# COMMANDS" section has one "## NAME"
  subsection per command (both directions), "PROGRAM CMD --help" lists exactly
  the options of that subsection plus those of the COMMANDS section's
  introduction (the options every command takes), and the global options of
  --help are those of "# GLOBAL OPTIONS". Otherwise the options of --help are
  those of "# OPTIONS".
- Every environment variable --help names ([$VAR]) is named in the man page.
- A program with --list-models (vgpu-sim): the man page's "# MODELS" section
  lists ("- *MODEL*: ...") exactly the models the program prints, in its order.
- The built page renders with groff without a warning, and with every option.
Prints TAP-like "ok"/"not ok" lines; exits 1 on any failure.
"""
import re
import subprocess
import sys

failures = 0


def check(ok, what, detail=""):
    global failures
    print(("ok   - " if ok else "not ok - ") + what)
    if not ok:
        failures += 1
        if detail:
            print("       " + detail)


OPT_WORD = re.compile(r"(?<![\w-])(--?[A-Za-z0-9][A-Za-z0-9-]*)")


def help_text(args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"not ok - {' '.join(args)} exits {r.returncode}: {r.stderr.strip()}")
        sys.exit(1)
    return r.stdout


def help_sections(text):
    """--help text -> {heading or '': [lines]} (headings are 'WORDS:' lines)."""
    secs, cur = {}, ""
    for line in text.splitlines():
        m = re.match(r"^([A-Z][A-Z ]*):\s*$", line)
        if m:
            cur = m.group(1)
            secs.setdefault(cur, [])
            continue
        secs.setdefault(cur, []).append(line)
    return secs


def help_options(lines):
    opts = set()
    for line in lines:
        s = line.strip()
        if not s.startswith("-"):
            continue
        first = re.split(r"\s{2,}", s)[0]
        opts.update(OPT_WORD.findall(first))
    return opts


def help_commands(lines):
    cmds = set()
    for line in lines:
        m = re.match(r"^\s+([^\s,]+)", line)
        if m and not m.group(1).startswith("-"):
            # the first word; urfave/cli style "help, h": the first name
            cmds.add(m.group(1))
    return cmds


def scd_parse(path):
    """scdoc source -> {(section, subsection or ''): set of options}."""
    lines = open(path, encoding="utf-8").read().splitlines()
    sec, sub, out = "", "", {}
    for i, line in enumerate(lines):
        if line.startswith("## "):
            sub = line[3:].strip()
            out.setdefault((sec, sub), set())
            continue
        if line.startswith("# "):
            sec, sub = line[2:].strip(), ""
            out.setdefault((sec, sub), set())
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith("*-") and nxt.startswith("\t"):
            words = re.findall(r"\*([^*]+)\*", line)
            names = {w.strip() for w in words if w.strip().startswith("-")}
            twice = names & out.setdefault((sec, sub), set())
            check(not twice, f"{path}:{i + 1}: an option is described once in its section",
                  "again: " + " ".join(sorted(twice)))
            out[(sec, sub)].update(names)
    return out


def compare(what, from_help, from_man):
    missing = sorted(from_help - from_man)
    extra = sorted(from_man - from_help)
    check(not missing, f"{what}: every option of --help is in the man page",
          "not in the man page: " + " ".join(missing))
    check(not extra, f"{what}: every option of the man page is in --help",
          "not in --help: " + " ".join(extra))


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    scd, built, prog = sys.argv[1:]
    name = scd.rsplit("/", 1)[-1].split(".")[0]
    man = scd_parse(scd)
    top = help_text([prog, "--help"])
    secs = help_sections(top)

    if "COMMANDS" in secs:
        cmds = help_commands(secs["COMMANDS"])
        man_cmds = {sub for (sec, sub) in man if sec == "COMMANDS" and sub}
        check(bool(cmds), f"{name}: --help lists commands")
        check(cmds <= man_cmds, f"{name}: every command of --help has a man page subsection",
              "missing: " + " ".join(sorted(cmds - man_cmds)))
        check(man_cmds <= cmds, f"{name}: every command of the man page is in --help",
              "not in --help: " + " ".join(sorted(man_cmds - cmds)))
        glob = set()
        for k in secs:
            if "OPTIONS" in k:
                glob |= help_options(secs[k])
        compare(f"{name} global options", glob, man.get(("GLOBAL OPTIONS", ""), set()))
        common = man.get(("COMMANDS", ""), set())
        check(bool(common), f"{name}: the COMMANDS section names the options every command takes")
        for cmd in sorted(cmds & man_cmds):
            if cmd == "help":
                continue
            opts = help_options(help_text([prog, cmd, "--help"]).splitlines())
            compare(f"{name} {cmd}", opts, man[("COMMANDS", cmd)] | common)
    else:
        compare(name, help_options(top.splitlines()), man.get(("OPTIONS", ""), set()))

    text = open(scd, encoding="utf-8").read()
    envs = set(re.findall(r"\[\$([A-Z0-9_]+)\]", top))
    if "COMMANDS" in secs:
        for cmd in help_commands(secs["COMMANDS"]):
            if cmd != "help":
                envs |= set(re.findall(r"\[\$([A-Z0-9_]+)\]", help_text([prog, cmd, "--help"])))
    missing = sorted(e for e in envs if e not in text)
    check(not missing, f"{name}: every environment variable of --help is in the man page",
          "missing: " + " ".join(missing))

    if "--list-models" in top:
        models = [l.split()[0] for l in help_text([prog, "--list-models"]).splitlines() if l.strip()]
        sec = re.search(r"^# MODELS\n(.*?)(?=^# )", text, re.S | re.M)
        listed = re.findall(r"^- \*([^*]+)\*:", sec.group(1), re.M) if sec else []
        check(bool(models) and listed == models,
              f"{name}: the MODELS section lists every model of --list-models, in its order",
              f"--list-models: {' '.join(models)}; the page: {' '.join(listed)}")

    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", built],
                       capture_output=True, text=True)
    check(r.returncode == 0 and not r.stderr.strip(), f"{name}: the built page renders without a warning",
          r.stderr.strip())
    # and all of it: every option of the source is in the rendered text
    r = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", built], capture_output=True, text=True)
    rendered = set(OPT_WORD.findall(r.stdout.replace("\u2010", "-")))
    lost = sorted(set().union(*man.values()) - rendered)
    check(r.returncode == 0 and not lost, f"{name}: every option of the source is in the built page",
          "not rendered: " + " ".join(lost))
    print(f"{'FAIL' if failures else 'PASS'}: {failures} failures")
    sys.exit(1 if failures else 0)


main()

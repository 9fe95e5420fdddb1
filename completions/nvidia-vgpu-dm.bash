# bash completion for nvidia-vgpu-dm                       -*- shell-script -*-
# SPDX-License-Identifier: Apache-2.0
#
# Commands and options come from the program's own --help (the COMMANDS list
# and each command's OPTIONS), so a new command or option needs nothing here.
# An option's value is completed by the placeholder --help gives it:
#   FILE -> files (*.yaml, *.yml, *.json), TARBALL -> *.tar.gz, *.tgz,
#   DIR -> directories,
#   LABEL -> the labels (vgpu-configs keys) of the -f file, SEED -> machine-id,
#   A|B|C -> A, B and C.
# The -f file is read, never executed: _vgpu_dm_config_labels
# (config-labels.bash, put in front of this file at build time) is plain awk.
# Needs bash-completion (_init_completion, _filedir), which loads this file.

# _vgpu_dm_help_opts PROG [CMD]: "NAME ARG" per option of PROG [CMD] --help
# (ARG empty for a flag), from lines whose first column starts with "-".
_vgpu_dm_help_opts()
{
    "$@" --help 2>/dev/null | LC_ALL=C awk '
    /^[ \t]+-/ {
        s = $0; sub(/^[ \t]+/, "", s)
        n = index(s, "  "); if (n) s = substr(s, 1, n - 1)
        # "-g, --gpu MODEL": every name of the line takes the argument
        m = split(s, parts, /,[ \t]*/); k = 0; arg = ""
        for (j = 1; j <= m; j++) {
            p = parts[j]; sub(/^[ \t]+/, "", p); sub(/[ \t]+$/, "", p)
            name = p
            if (match(p, /[ =]/)) { name = substr(p, 1, RSTART - 1); arg = substr(p, RSTART + 1) }
            if (name ~ /^--?[A-Za-z0-9]/) names[++k] = name
        }
        for (j = 1; j <= k; j++) print names[j], arg
    }'
}

# _vgpu_dm_help_commands PROG: the names in the COMMANDS list of PROG --help
_vgpu_dm_help_commands()
{
    "$1" --help 2>/dev/null | LC_ALL=C awk '
    /^[A-Z][A-Z ]*:[ \t]*$/ { in_cmds = ($0 ~ /^COMMANDS:/); next }
    in_cmds && /^[ \t]+[a-z]/ { n = $1; sub(/,$/, "", n); print n }'
}

# the config file given on the line (-f X, -f=X, --config-file X, Go's
# -config-file X), else $VGPU_DM_CONFIG_FILE; "~/" is expanded by hand
_vgpu_dm_config_file()
{
    local i w f=${VGPU_DM_CONFIG_FILE-}
    for ((i = 1; i < ${#words[@]}; i++)); do
        ((i == cword)) && continue
        w=${words[i]}
        case $w in
        -f | --config-file | -config-file) ((i + 1 != cword)) && f=${words[i + 1]} ;;
        -f=* | --config-file=* | -config-file=*) f=${w#*=} ;;
        esac
    done
    [[ $f == "~/"* ]] && f=$HOME/${f#"~/"}
    [[ $f == - ]] && f=
    printf '%s\n' "$f"
}

# _vgpu_dm_complete_words CUR WORD...: COMPREPLY = the WORDs starting with CUR
# (words may contain spaces; they are quoted for the command line)
_vgpu_dm_complete_words()
{
    local cur=$1 w
    shift
    COMPREPLY=()
    for w in "$@"; do
        [[ $w == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$w")")
    done
}

_nvidia_vgpu_dm()
{
    local cur prev words cword split
    _init_completion -s || return

    local prog=${words[0]}
    [[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
    type -P "$prog" >/dev/null 2>&1 || prog=nvidia-vgpu-dm

    # the command: the first word that is not an option or an option's value
    local -A gargs=()
    local name arg
    while read -r name arg; do gargs[$name]=$arg; done < <(_vgpu_dm_help_opts "$prog")
    local -a cmds
    mapfile -t cmds < <(_vgpu_dm_help_commands "$prog")
    local i cmd="" cmd_at=0
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ $w == -* ]]; then
            [[ $w != *=* && -n ${gargs[$w]-} ]] && ((i++))
            continue
        fi
        cmd=$w cmd_at=$i
        break
    done

    local -A args=()
    if [[ -n $cmd ]]; then
        [[ $cmd == h ]] && cmd=help
        while read -r name arg; do args[$name]=$arg; done < <(_vgpu_dm_help_opts "$prog" "$cmd")
    else
        for name in "${!gargs[@]}"; do args[$name]=${gargs[$name]}; done
    fi

    # the value of an option
    if [[ $prev == -* && -n ${args[$prev]-} ]]; then
        case ${args[$prev]} in
        FILE) _filedir '@(yaml|yml|json)' ;;
        TARBALL) _filedir '@(tar.gz|tgz)' ;;
        DIR) _filedir -d ;;
        LABEL)
            local f
            f=$(_vgpu_dm_config_file)
            local -a labels=()
            [[ -n $f ]] && mapfile -t labels < <(_vgpu_dm_config_labels "$f")
            _vgpu_dm_complete_words "$cur" "${labels[@]}"
            ;;
        SEED) _vgpu_dm_complete_words "$cur" machine-id ;;
        *\|*)
            # the choices themselves: C|Q|A|B
            local -a choices
            IFS='|' read -ra choices <<<"${args[$prev]}"
            _vgpu_dm_complete_words "$cur" "${choices[@]}"
            ;;
        *) COMPREPLY=() ;;
        esac
        return
    fi
    $split && return

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "${!args[*]}" -- "$cur"))
        return
    fi
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "${cmds[*]}" -- "$cur"))
        return
    fi
    if [[ $cmd == help ]] && ((cword == cmd_at + 1)); then
        COMPREPLY=($(compgen -W "${cmds[*]}" -- "$cur"))
        return
    fi
    COMPREPLY=()
} &&
    complete -F _nvidia_vgpu_dm nvidia-vgpu-dm

# ex: filetype=sh

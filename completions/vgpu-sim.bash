# bash completion for vgpu-sim                             -*- shell-script -*-
# SPDX-License-Identifier: Apache-2.0
#
# Options come from "vgpu-sim --help", GPU models from "vgpu-sim --list-models"
# ("MODEL FW..." per line), so a new option or model needs nothing here.
# --gpu completes [Nx]MODEL and MODEL:FW with the frameworks that model can
# use; --framework completes mdev and vfio; the MOUNTPOINT a directory.
# Needs bash-completion (_init_completion, _filedir), which loads this file.

# "NAME ARG" per option of PROG --help (ARG empty for a flag); every name on
# a line ("-g, --gpu MODEL[:FW]") takes the line's argument
_vgpu_sim_help_opts()
{
    "$1" --help 2>/dev/null | LC_ALL=C awk '
    /^[ \t]+-/ {
        s = $0; sub(/^[ \t]+/, "", s)
        n = index(s, "  "); if (n) s = substr(s, 1, n - 1)
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

_vgpu_sim()
{
    local cur prev words cword split
    _init_completion -s -n : || return

    local prog=${words[0]}
    [[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
    type -P "$prog" >/dev/null 2>&1 || prog=vgpu-sim

    local -A args=()
    local name arg
    while read -r name arg; do args[$name]=$arg; done < <(_vgpu_sim_help_opts "$prog")

    if [[ $prev == -* && -n ${args[$prev]-} ]]; then
        case $prev in
        -g | --gpu)
            local count="" model line
            local -a cands=() fws
            # NxMODEL: keep the count, complete the model
            if [[ $cur =~ ^([0-9]+[xX])(.*)$ ]]; then
                count=${BASH_REMATCH[1]}
            fi
            while read -r line; do
                model=${line%% *}
                read -ra fws <<<"${line#"$model"}"
                if [[ $cur == "$count$model:"* ]]; then
                    local fw
                    for fw in "${fws[@]}"; do cands+=("$count$model:$fw"); done
                else
                    cands+=("$count$model")
                fi
            done < <("$prog" --list-models 2>/dev/null)
            COMPREPLY=($(compgen -W "${cands[*]}" -- "$cur"))
            __ltrim_colon_completions "$cur"
            ;;
        --framework) COMPREPLY=($(compgen -W "mdev vfio" -- "$cur")) ;;
        --replay) _filedir '@(tar.gz|tgz)' ;;
        *) COMPREPLY=() ;;
        esac
        return
    fi
    $split && return

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "${!args[*]}" -- "$cur"))
        return
    fi
    _filedir -d
} &&
    complete -F _vgpu_sim vgpu-sim

# ex: filetype=sh

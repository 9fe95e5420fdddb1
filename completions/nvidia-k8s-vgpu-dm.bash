# bash completion for nvidia-k8s-vgpu-dm                   -*- shell-script -*-
# SPDX-License-Identifier: Apache-2.0
#
# Option names come from the agent's own --help. Its help gives no value
# placeholders (upstream's flags), so what follows an option is said here, by
# option name: files, directories, the labels of the -f file for
# --default-vgpu-config, or a free value (nothing offered). An option not named
# here is a flag. The -f file is read, never executed: _vgpu_dm_config_labels
# (config-labels.bash, put after this file at build time) is plain awk.
# Needs bash-completion (_init_completion, _filedir), which loads this file.

_nvidia_k8s_vgpu_dm()
{
    local cur prev words cword split
    _init_completion -s || return

    local prog=${words[0]}
    [[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
    type -P "$prog" >/dev/null 2>&1 || prog=nvidia-k8s-vgpu-dm

    case $prev in
    --kubeconfig | -f | --config-file | -g | --gpu-clients-file)
        _filedir
        return
        ;;
    -o | --host-mig-manager-state-file)
        _filedir conf
        return
        ;;
    -m | --host-root-mount | -a | --driver-root-ctr-path | --sysfs-root | --service-account-dir)
        _filedir -d
        return
        ;;
    -d | --default-vgpu-config)
        local f="${CONFIG_FILE-}" i w
        for ((i = 1; i < ${#words[@]}; i++)); do
            ((i == cword)) && continue
            w=${words[i]}
            case $w in
            -f | --config-file | -config-file) ((i + 1 != cword)) && f=${words[i + 1]} ;;
            -f=* | --config-file=* | -config-file=*) f=${w#*=} ;;
            esac
        done
        [[ $f == "~/"* ]] && f=$HOME/${f#"~/"}
        COMPREPLY=()
        if [[ -n $f ]]; then
            local l
            while IFS= read -r l; do
                [[ $l == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$l")")
            done < <(_vgpu_dm_config_labels "$f")
        fi
        return
        ;;
    -n | --node-name | --ns | --namespace | -k | --host-kubelet-systemd-service | \
        --retry-backoff | --pod-wait-timeout | --watch-timeout)
        COMPREPLY=()
        return
        ;;
    esac
    $split && return

    local opts
    opts=$("$prog" --help 2>/dev/null | LC_ALL=C awk '
    /^[ \t]+-/ {
        s = $0; sub(/^[ \t]+/, "", s)
        n = index(s, "  "); if (n) s = substr(s, 1, n - 1)
        m = split(s, parts, /,[ \t]*/)
        for (j = 1; j <= m; j++) { p = parts[j]; sub(/[ \t].*/, "", p); if (p ~ /^--?[A-Za-z0-9]/) print p }
    }')
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
} &&
    complete -F _nvidia_k8s_vgpu_dm nvidia-k8s-vgpu-dm

# ex: filetype=sh

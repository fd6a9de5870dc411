"""`completion bash|zsh`: a shell completion script generated from the command table.

Commands, subcommands and each command's flags come from `spec`; container and image names
are asked from the daemon at completion time (`ps -a`, `images`).
"""

from __future__ import annotations

from dockwright.cli import spec
from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed

CONTAINER_ARGS = frozenset(
    k
    for k in spec.COMMANDS
    if k.startswith("container ")
    and k not in ("container run", "container create", "container ls", "container prune")
)
IMAGE_ARGS = frozenset(
    {
        "container run",
        "container create",
        "image rm",
        "image history",
        "image inspect",
        "image tag",
        "system inspect",
    }
)


def _flags_case(prog: str) -> list[str]:
    """One `case` arm per typed command path, listing its flags."""
    arms = []
    for typed, key in sorted(spec.ROUTES.items()):
        cmd = spec.COMMANDS[key]
        words = " ".join(
            f"--{f.long}" + (f" -{f.short}" if f.short else "") for f in cmd.flags if not f.hidden
        )
        kind = "containers" if key in CONTAINER_ARGS else "images" if key in IMAGE_ARGS else "none"
        arms.append(f'        "{typed}") flags="{words} --help"; args={kind} ;;')
    return arms


def bash_script(prog: str) -> str:
    top = " ".join(sorted({k.split(" ")[0] for k in spec.ROUTES}))
    groups = {
        g: " ".join(sorted(k.split(" ", 1)[1] for k in spec.ROUTES if k.startswith(g + " ")))
        for g in spec.GROUPS
    }
    group_arms = "\n".join(f'        {g}) subs="{subs}" ;;' for g, subs in groups.items())
    global_flags = " ".join(f"--{f.long}" for f in spec.GLOBAL.flags)
    return f"""# bash completion for {prog}; load with: source <({prog} completion bash)
_{prog}_names() {{
    case "$1" in
        containers) {prog} ps -a --format '{{{{.Names}}}}' 2>/dev/null ;;
        images) {prog} images --format '{{{{.Repository}}}}:{{{{.Tag}}}}' 2>/dev/null | grep -v '<none>' ;;
    esac
}}

_{prog}() {{
    local cur words=() i w path="" subs="" flags="" args=none
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${{COMP_WORDS[i]}}"
        case "$w" in -H|--host|-c|--context|--config|-l|--log-level) ((i++)); continue ;; -*) continue ;; esac
        words+=("$w")
    done
    if [ ${{#words[@]}} -eq 0 ]; then
        if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "{global_flags}" -- "$cur")); return; fi
        COMPREPLY=($(compgen -W "{top}" -- "$cur")); return
    fi
    case "${{words[0]}}" in
{group_arms}
    esac
    if [ -n "$subs" ] && [ ${{#words[@]}} -eq 1 ]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur")); return
    fi
    path="${{words[0]}}"
    [ -n "$subs" ] && path="${{words[0]}} ${{words[1]}}"
    case "$path" in
{chr(10).join(_flags_case(prog))}
    esac
    if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); return; fi
    COMPREPLY=($(compgen -W "$(_{prog}_names $args)" -- "$cur"))
}}
complete -F _{prog} {prog}
"""


def zsh_script(prog: str) -> str:
    """zsh runs the bash function through bashcompinit (what docker's fallback does too)."""
    return (
        f"#compdef {prog}\n# zsh completion for {prog}; load with: source <({prog} completion zsh)\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(prog)
    )


def completion(ctx: Context, p: Parsed) -> int:
    shell = p.args[0]
    scripts = {"bash": bash_script, "zsh": zsh_script}
    if shell not in scripts:
        raise CommandExit(1, f'unsupported shell "{shell}": use bash or zsh')
    ctx.stdout.write(scripts[shell](ctx.prog))
    return 0

"""What each metadata instruction does to the image config, and how steps are described. Pure.

The config is the image's `config` section in Docker's PascalCase (Env, Cmd, Entrypoint, …).
Each function returns a new dict; the executor commits it as an image whose history line is
`created_by` (Docker's `/bin/sh -c #(nop)  ENV a=b` form for instructions that run nothing).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from dockwright.builder.expand import expand_word, expand_words
from dockwright.builder.parser import KEYWORDS, Instruction
from dockwright.errors import InvalidParameter
from dockwright.types.execform import exec_form

Config = dict[str, Any]
DEFAULT_SHELL = ("/bin/sh", "-c")
# every instruction but the ones that run, copy, declare or start a stage: only the config changes
METADATA = KEYWORDS - {"add", "arg", "copy", "from", "run"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
            "m": 60_000_000_000, "h": 3_600_000_000_000}  # fmt: skip


def env_map(config: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in config.get("Env") or []:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def expansion_env(config: Mapping[str, Any], args: Mapping[str, str]) -> dict[str, str]:
    """Variables an instruction sees: its stage's ARGs, overridden by ENV (Docker's rule)."""
    return {**args, **env_map(config)}


def nop(description: str) -> str:
    return f"/bin/sh -c #(nop)  {description}"


def shell_of(config: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(config.get("Shell") or DEFAULT_SHELL)


def command(ins: Instruction, config: Mapping[str, Any]) -> list[str]:
    """RUN/CMD/ENTRYPOINT argv: the exec form as written, the shell form under SHELL."""
    if ins.json is not None:
        return list(ins.json)
    return [*shell_of(config), script(ins)]


def script(ins: Instruction) -> str:
    """The shell text of a shell-form RUN: a bare `<<EOF` runs its body; a heredoc that feeds a
    command (`cat <<EOF > f`) is passed whole to the shell, which reads it as one."""
    if not ins.heredocs:
        return ins.rest
    if len(ins.heredocs) == 1 and ins.rest.lstrip("<-").strip("\"'") == ins.heredocs[0].name:
        return ins.heredocs[0].content
    bodies = "".join(f"{doc.content}{doc.name}\n" for doc in ins.heredocs)
    return f"{ins.rest}\n{bodies}"


def apply(
    config: Config, ins: Instruction, env: Mapping[str, str], escape: str
) -> tuple[Config, str]:
    """(new config, history description) for a metadata instruction."""
    handler = _HANDLERS.get(ins.keyword)
    if handler is None:
        raise InvalidParameter(f"{ins.keyword.upper()} is not a metadata instruction")
    new = json.loads(json.dumps(config))  # deep copy of plain JSON
    description = handler(new, ins, env, escape)
    return new, description


def _set_env(config: Config, key: str, value: str) -> None:
    env = [e for e in config.get("Env") or [] if e.partition("=")[0] != key]
    config["Env"] = [*env, f"{key}={value}"]


def pairs(ins: Instruction, env: Mapping[str, str], escape: str) -> list[tuple[str, str]]:
    """ENV/LABEL arguments: `k=v k2="v 2"`, or the legacy `ENV k some value` form."""
    words = expand_words(ins.rest, env, escape)
    if not words:
        raise InvalidParameter(f"{ins.keyword.upper()} requires at least one argument")
    if "=" not in words[0]:
        if ins.keyword == "env" and len(words) >= 2:
            return [(words[0], expand_word(ins.rest.split(None, 1)[1], env, escape))]
        raise InvalidParameter(f"{ins.keyword.upper()} names can not be blank: {ins.original!r}")
    out = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise InvalidParameter(
                f"syntax error - can't find = in {word!r}: must be of the form: name=value"
            )
        out.append((key, value))
    return out


def _env(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    found = pairs(ins, env, escape)
    for key, value in found:
        _set_env(config, key, value)
    return "ENV " + " ".join(f"{k}={v}" for k, v in found)


def _label(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    found = pairs(ins, env, escape)
    config["Labels"] = {**(config.get("Labels") or {}), **dict(found)}
    return "LABEL " + " ".join(f"{k}={v}" for k, v in found)


def _cmd(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    config["Cmd"] = command(ins, config)
    return "CMD " + json.dumps(config["Cmd"])


def _entrypoint(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    config["Entrypoint"] = command(ins, config) if ins.rest else None
    return "ENTRYPOINT " + json.dumps(config["Entrypoint"])


def _workdir(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    path = expand_word(ins.rest, env, escape)
    if not path:
        raise InvalidParameter("WORKDIR requires exactly one argument")
    current = config.get("WorkingDir") or "/"
    config["WorkingDir"] = _clean(
        path if path.startswith("/") else current.rstrip("/") + "/" + path
    )
    return "WORKDIR " + config["WorkingDir"]


def _clean(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/" + "/".join(parts)


def _expose(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    ports = dict(config.get("ExposedPorts") or {})
    words = expand_words(ins.rest, env, escape)
    for word in words:
        port = word if "/" in word else word + "/tcp"
        if not port.split("/")[0].replace("-", "").isdigit():
            raise InvalidParameter(f"invalid containerPort: {word}")
        ports[port.lower()] = {}
    config["ExposedPorts"] = ports
    return "EXPOSE " + " ".join(sorted(ports))


def _user(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    config["User"] = expand_word(ins.rest, env, escape)
    return "USER " + config["User"]


def arguments(ins: Instruction, env: Mapping[str, str], escape: str) -> list[str]:
    """The instruction's words, expanded: the JSON form's items, or the shell form's words."""
    if ins.json is not None:
        return [expand_word(w, env, escape) for w in ins.json]
    return expand_words(ins.rest, env, escape)


def _volume(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    names = arguments(ins, env, escape)
    if not names or any(not n.strip() for n in names):
        raise InvalidParameter("VOLUME specified can not be an empty string")
    config["Volumes"] = {**(config.get("Volumes") or {}), **{n: {} for n in names}}
    return "VOLUME " + json.dumps(names)


def _stopsignal(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    config["StopSignal"] = expand_word(ins.rest, env, escape)
    return "STOPSIGNAL " + config["StopSignal"]


def _shell(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    if ins.json is None or not ins.json:
        raise InvalidParameter("SHELL requires the arguments to be in JSON form")
    config["Shell"] = list(ins.json)
    return "SHELL " + json.dumps(config["Shell"])


def _maintainer(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    return "MAINTAINER " + ins.rest


def check_trigger(ins: Instruction) -> None:
    """An ONBUILD's trigger may not be ONBUILD, FROM or MAINTAINER (Docker's rule)."""
    keyword = ins.rest.split(None, 1)[0].upper() if ins.rest else ""
    if keyword in ("ONBUILD", "FROM", "MAINTAINER", ""):
        raise InvalidParameter(f"{keyword or 'ONBUILD'} isn't allowed as an ONBUILD trigger")


def _onbuild(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    check_trigger(ins)
    config["OnBuild"] = [*(config.get("OnBuild") or []), ins.rest]
    return "ONBUILD " + ins.rest


def _healthcheck(config: Config, ins: Instruction, env: Mapping[str, str], escape: str) -> str:
    kind, _, rest = ins.rest.partition(" ")
    if kind.upper() == "NONE":
        config["Healthcheck"] = {"Test": ["NONE"]}
        return "HEALTHCHECK NONE"
    if kind.upper() != "CMD":
        raise InvalidParameter(f"unknown type {kind!r} in HEALTHCHECK (try CMD)")
    body = Instruction("cmd", rest.strip(), (), exec_form(rest.strip()))
    test = ["CMD", *body.json] if body.json is not None else ["CMD-SHELL", body.rest]
    check: dict[str, Any] = {"Test": test}
    for flag, field in (("interval", "Interval"), ("timeout", "Timeout"),
                        ("start-period", "StartPeriod"), ("start-interval", "StartInterval")):  # fmt: skip
        if ins.flag(flag):
            check[field] = parse_duration(ins.flag(flag))
    if ins.flag("retries"):
        check["Retries"] = int(ins.flag("retries"))
    config["Healthcheck"] = check
    return "HEALTHCHECK &{" + json.dumps(test) + "}"


def parse_duration(text: str) -> int:
    """Go's time.ParseDuration subset ("30s", "1m30s", "500ms") in nanoseconds."""
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_NS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise InvalidParameter(f"time: invalid duration {text!r}")
    return int(total)


_HANDLERS = {
    "env": _env, "label": _label, "cmd": _cmd, "entrypoint": _entrypoint, "workdir": _workdir,
    "expose": _expose, "user": _user, "volume": _volume, "stopsignal": _stopsignal,
    "shell": _shell, "maintainer": _maintainer, "onbuild": _onbuild, "healthcheck": _healthcheck,
}  # fmt: skip

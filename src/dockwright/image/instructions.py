"""Dockerfile instructions as `docker import --change` / `commit --change` applies them. Pure.

`apply_changes(config, changes)` returns a new OCI image ``config`` section (Docker's PascalCase
keys: Cmd, Entrypoint, Env, ExposedPorts, Labels, User, WorkingDir, Volumes, StopSignal) with each
change line applied in order. CMD, ENTRYPOINT and VOLUME take the JSON array form or the shell
form; ENV and LABEL take ``k=v ...`` or the legacy ``k v`` form; quotes and ``$VAR`` / ``${VAR}``
expansion (from the Env built so far) follow the Dockerfile rules closely enough for these.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable
from typing import Any

from dockwright.errors import InvalidParameter
from dockwright.types.execform import exec_form

Config = dict[str, Any]
_VAR = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<op>[-+])(?P<word>[^}]*))?\}"
                  r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")  # fmt: skip
_PORT = re.compile(r"^(\d+)(?:-(\d+))?(?:/(tcp|udp|sctp))?$", re.IGNORECASE)


def split_words(text: str) -> list[str]:
    """Split on blanks outside quotes, keeping quotes and escapes (Docker's parseWords)."""
    words: list[str] = []
    word = ""
    quote = ""
    escaped = False
    for ch in text:
        if escaped:
            word += ch
            escaped = False
        elif ch == "\\" and quote != "'":
            word += ch
            escaped = True
        elif quote:
            word += ch
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            word += ch
            quote = ch
        elif ch.isspace():
            if word:
                words.append(word)
            word = ""
        else:
            word += ch
    if word:
        words.append(word)
    return words


def _expand_vars(text: str, env: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group("braced") or m.group("plain")
        value = env.get(name)
        if m.group("op") == "-":
            return value if value else m.group("word")
        if m.group("op") == "+":
            return m.group("word") if value else ""
        return value or ""

    return _VAR.sub(sub, text)


def process_word(word: str, env: dict[str, str]) -> str:
    """Remove quotes and escapes, expanding variables outside single quotes."""
    out: list[str] = []
    plain = ""
    i = 0
    while i < len(word):
        ch = word[i]
        if ch == "\\" and i + 1 < len(word):
            out.append(_expand_vars(plain, env) + word[i + 1])  # escaped: never expanded
            plain, i = "", i + 2
        elif ch == "'":
            end = word.find("'", i + 1)
            end = len(word) if end < 0 else end
            out.append(_expand_vars(plain, env) + word[i + 1 : end])
            plain, i = "", end + 1
        elif ch == '"':
            end = i + 1
            while end < len(word) and word[end] != '"':
                end += 2 if word[end] == "\\" else 1
            inner = re.sub(r'\\(["\\$])', r"\1", word[i + 1 : end])
            out.append(_expand_vars(plain, env) + _expand_vars(inner, env))
            plain, i = "", end + 1
        else:
            plain += ch
            i += 1
    out.append(_expand_vars(plain, env))
    return "".join(out)


def _env_map(config: Config) -> dict[str, str]:
    pairs = (item.partition("=") for item in config.get("Env") or [])
    return {k: v for k, _, v in pairs}


def _name_values(keyword: str, rest: str, env: dict[str, str]) -> list[tuple[str, str]]:
    """`k=v k2="v 2"` pairs, or the legacy `k value with spaces` form."""
    words = split_words(rest)
    if not words:
        raise InvalidParameter(f"{keyword} requires at least one argument")
    if "=" not in words[0]:
        parts = rest.split(None, 1)
        if len(parts) < 2:
            raise InvalidParameter(f"{keyword} must have two arguments")
        return [(parts[0], process_word(parts[1], env))]
    pairs = []
    for word in words:
        if "=" not in word:
            raise InvalidParameter(
                f"Syntax error - can't find = in {word!r}. Must be of the form: name=value"
            )
        key, _, value = word.partition("=")
        if not key:
            raise InvalidParameter(f"{keyword} names can not be blank")
        pairs.append((process_word(key, env), process_word(value, env)))
    return pairs


def _command(rest: str) -> list[str]:
    as_json = exec_form(rest)
    return list(as_json) if as_json is not None else ["/bin/sh", "-c", rest]


def _cmd(config: Config, rest: str, env: dict[str, str]) -> None:
    config["Cmd"] = _command(rest)


def _entrypoint(config: Config, rest: str, env: dict[str, str]) -> None:
    config["Entrypoint"] = _command(rest)


def _env(config: Config, rest: str, env: dict[str, str]) -> None:
    for key, value in _name_values("ENV", rest, env):
        env[key] = value
    config["Env"] = [f"{k}={v}" for k, v in env.items()]


def _label(config: Config, rest: str, env: dict[str, str]) -> None:
    labels = dict(config.get("Labels") or {})
    labels.update(_name_values("LABEL", rest, env))
    config["Labels"] = labels


def _expose(config: Config, rest: str, env: dict[str, str]) -> None:
    ports = dict(config.get("ExposedPorts") or {})
    for word in split_words(rest):
        spec = process_word(word, env)
        m = _PORT.match(spec)
        if m is None or int(m.group(1)) > 65535 or int(m.group(2) or 0) > 65535:
            raise InvalidParameter(f"invalid port specification: {spec!r}")
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if last < first:
            raise InvalidParameter(f"invalid port range: {spec!r}")
        proto = (m.group(3) or "tcp").lower()
        ports.update({f"{p}/{proto}": {} for p in range(first, last + 1)})
    config["ExposedPorts"] = ports


def _user(config: Config, rest: str, env: dict[str, str]) -> None:
    config["User"] = process_word(rest, env)


def _workdir(config: Config, rest: str, env: dict[str, str]) -> None:
    path = process_word(rest, env)
    if not path:
        raise InvalidParameter("WORKDIR requires exactly one argument")
    config["WorkingDir"] = posixpath.normpath(
        posixpath.join("/", config.get("WorkingDir") or "/", path)
    )


def _volume(config: Config, rest: str, env: dict[str, str]) -> None:
    paths = exec_form(rest)
    if paths is None:
        paths = tuple(process_word(w, env) for w in split_words(rest))
    if not paths or any(not p.strip() for p in paths):
        raise InvalidParameter("VOLUME specified can not be an empty string")
    volumes = dict(config.get("Volumes") or {})
    volumes.update({p: {} for p in paths})
    config["Volumes"] = volumes


def _stopsignal(config: Config, rest: str, env: dict[str, str]) -> None:
    config["StopSignal"] = process_word(rest, env)


_HANDLERS: dict[str, Callable[[Config, str, dict[str, str]], None]] = {
    "cmd": _cmd,
    "entrypoint": _entrypoint,
    "env": _env,
    "expose": _expose,
    "label": _label,
    "stopsignal": _stopsignal,
    "user": _user,
    "volume": _volume,
    "workdir": _workdir,
}


def parse_change(line: str) -> tuple[str, str]:
    """(instruction in lower case, its arguments); InvalidParameter for unsupported ones."""
    keyword, *rest_ = line.strip().split(None, 1)
    rest = rest_[0] if rest_ else ""
    name = keyword.lower()
    if name not in _HANDLERS:
        raise InvalidParameter(f"{name} is not a valid change command")
    return name, rest.strip()


def apply_changes(config: Config, changes: Iterable[str]) -> Config:
    """A copy of `config` with every change line applied in order (pure)."""
    out = json.loads(json.dumps(config))
    for line in changes:
        if not line.strip():
            continue
        name, rest = parse_change(line)
        _HANDLERS[name](out, rest, _env_map(out))
    return out

"""`RUN --mount=…` and `RUN --network=…`: BuildKit's option grammar, parsed and resolved. Pure.

A mount is a CSV list of `key=value` fields (`type=cache,target=/root/.cache,sharing=locked`);
the type comes first when later keys depend on it, exactly as BuildKit reads the fields in order.
Values are expanded with the stage's variables, except `from`, which BuildKit refuses to expand.
`resolve` then applies the defaults that depend on the stage: a relative target is taken from the
WORKDIR, a cache's id is its target, a secret's target is `/run/secrets/<id>`, an ssh mount's id
is `default` and its target `/run/buildkit/ssh_agent.<n>` (n counts the RUN's ssh mounts), bind,
secret and ssh mounts are read-only unless `rw` was given.
"""

from __future__ import annotations

import csv
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from dockwright.builder.expand import expand_word
from dockwright.builder.parser import Instruction
from dockwright.errors import InvalidParameter

MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
SHARING_MODES = ("shared", "private", "locked")
NETWORK_MODES = ("default", "none", "host")
SECRETS_DIR = "/run/secrets"
SSH_AGENT_TARGET = "/run/buildkit/ssh_agent.{}"
SSH_MODE = 0o600
_KEYS = ("type", "from", "source", "target", "readonly", "id", "sharing", "required", "mode",
         "uid", "gid", "src", "dst", "ro", "rw", "readwrite", "size", "destination")  # fmt: skip
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_SIZE = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


@dataclass(frozen=True)
class RunMount:
    """One `--mount`; `readonly` None means "the type's default" until `resolve`."""

    type: str = "bind"
    target: str = ""
    source: str = ""
    from_: str = ""
    id: str = ""
    readonly: bool | None = None
    sharing: str = ""
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int = 0
    required: bool = False

    def describe(self) -> str:
        """A canonical text of every option (for the step's cache key; no secret content)."""
        fields = [f"type={self.type}", f"target={self.target}", f"source={self.source}",
                  f"from={self.from_}", f"id={self.id}", f"ro={self.readonly}",
                  f"sharing={self.sharing}", f"mode={self.mode}", f"uid={self.uid}",
                  f"gid={self.gid}", f"size={self.size}", f"required={self.required}"]  # fmt: skip
        return ",".join(fields)


def parse_bool(key: str, value: str) -> bool:
    """Go's strconv.ParseBool, with BuildKit's error text."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidParameter(f"invalid value for {key}: {value}")


def parse_ram(key: str, value: str) -> int:
    """docker/go-units RAMInBytes: `64m`, `1.5g`, `100` (binary units)."""
    m = _SIZE.match(value)
    if m is None:
        raise InvalidParameter(f"invalid value for {key}: {value}")
    try:
        number = float(m.group(1))
    except ValueError:
        raise InvalidParameter(f"invalid value for {key}: {value}") from None
    return int(number * _UNITS[(m.group(2) or "").lower()])


def _number(key: str, value: str, base: int) -> int:
    try:
        number = int(value, base)
    except ValueError:
        raise InvalidParameter(f"invalid value {value} for {key}") from None
    if number < 0 or number >= 1 << 32:
        raise InvalidParameter(f"invalid value {value} for {key}")
    return number


def _split_fields(text: str) -> list[str]:
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise InvalidParameter(f"failed to parse csv mounts: {exc}") from None
    return rows[0] if rows else []


class _Later(Exception):
    """A value holds a variable: it is known, and checked, only when the step runs."""


def parse_mount(text: str, expand: Callable[[str], str] = lambda v: v) -> RunMount:
    """One `--mount` value; InvalidParameter with BuildKit's messages for every mistake."""
    m, deferred = RunMount(), False
    for field in _split_fields(text):
        key, eq, value = field.partition("=")
        key = key.lower()
        if not eq:
            m = _bare_key(m, key, field)
            continue
        try:
            value = _field_value(key, value, field, expand)
        except _Later:
            if key == "type":
                return m  # what the later fields allow depends on the type
            deferred = True
            continue
        m = _SETTERS[key](m, key, value)
    return m if deferred else validate(m)


def _field_value(key: str, value: str, field: str, expand: Callable[[str], str]) -> str:
    """A field's value, expanded; `from` never is (BuildKit refuses a variable in it)."""
    if key not in _SETTERS:
        raise InvalidParameter(f"unexpected key '{key}' in '{field}'{_suggest(key)}")
    if key != "from":
        return expand(value)
    if re.search(r"\$.", value):
        raise InvalidParameter(
            f"'{key}' doesn't support variable expansion, define alias stage instead"
        )
    return value


def _defer_variables(value: str) -> str:
    if "$" in value:
        raise _Later
    return value


def check_mounts(ins: Instruction) -> None:
    """Before the build runs: the syntax of every `--mount` of a RUN. Values that hold a
    variable are checked when the step runs, with the stage's variables known."""
    for value in ins.flag_values("mount"):
        parse_mount(value, _defer_variables)


def mount_sources(ins: Instruction) -> list[str]:
    """What the `from=` of each `--mount` of a RUN names (a stage or an image), as written."""
    found = []
    for value in ins.flag_values("mount"):
        for field in _split_fields(value):
            key, _, text = field.partition("=")
            if key.lower() == "from":
                found.append(text)
    return found


def _bare_key(m: RunMount, key: str, field: str) -> RunMount:
    """Fields without `=`: ro/readonly, rw/readwrite, required."""
    if key in ("readonly", "ro"):
        return replace(m, readonly=True)
    if key in ("readwrite", "rw"):
        return replace(m, readonly=False)
    if key == "required":
        if m.type not in ("secret", "ssh"):
            raise InvalidParameter(f"unexpected key '{key}' for mount type '{m.type}'")
        return replace(m, required=True)
    raise InvalidParameter(f"invalid field '{field}' must be a key=value pair")


def _suggest(key: str) -> str:
    """BuildKit's "did you mean" for a misspelt key (at most two edits away)."""
    best = min(_KEYS, key=lambda known: _distance(key, known))
    return f" (did you mean {best}?)" if _distance(key, best) <= 2 else ""


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (keys are short: the quadratic table is fine)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def _set_type(m: RunMount, key: str, value: str) -> RunMount:
    kind = value.lower()
    if kind not in MOUNT_TYPES:
        raise InvalidParameter(f'unsupported mount type "{value}"')
    return replace(m, type=kind)


def _set_sharing(m: RunMount, key: str, value: str) -> RunMount:
    mode = value.lower()
    if mode not in SHARING_MODES:
        raise InvalidParameter(f'unsupported sharing value "{value}"')
    return replace(m, sharing=mode)


def _only_for(kind: str) -> Callable[[RunMount, str], None]:
    def check(m: RunMount, key: str) -> None:
        if m.type not in kind.split("|"):
            raise InvalidParameter(f"unexpected key '{key}' for mount type '{m.type}'")

    return check


_secret_or_ssh, _tmpfs_only = _only_for("secret|ssh"), _only_for("tmpfs")


def _set_required(m: RunMount, key: str, value: str) -> RunMount:
    _secret_or_ssh(m, key)
    return replace(m, required=parse_bool(key, value))


def _set_size(m: RunMount, key: str, value: str) -> RunMount:
    _tmpfs_only(m, key)
    return replace(m, size=parse_ram(key, value))


_SETTERS: dict[str, Callable[[RunMount, str, str], RunMount]] = {
    "type": _set_type,
    "from": lambda m, k, v: replace(m, from_=v),
    **dict.fromkeys(("source", "src"), lambda m, k, v: replace(m, source=v)),
    **dict.fromkeys(("target", "dst", "destination"), lambda m, k, v: replace(m, target=v)),
    **dict.fromkeys(("readonly", "ro"), lambda m, k, v: replace(m, readonly=parse_bool(k, v))),
    **dict.fromkeys(("readwrite", "rw"), lambda m, k, v: replace(m, readonly=not parse_bool(k, v))),
    "required": _set_required,
    "size": _set_size,
    "id": lambda m, k, v: replace(m, id=v),
    "sharing": _set_sharing,
    "mode": lambda m, k, v: replace(m, mode=_number("mode", v, 8)),
    "uid": lambda m, k, v: replace(m, uid=_number("uid", v, 10)),
    "gid": lambda m, k, v: replace(m, gid=_number("gid", v, 10)),
}


def validate(m: RunMount) -> RunMount:
    """BuildKit's validateMount: which options each type allows."""
    if m.type not in ("secret", "ssh", "cache"):
        for name, value in (("mode", m.mode), ("uid", m.uid), ("gid", m.gid)):
            if value is not None:
                raise InvalidParameter(f'{name} not allowed for "{m.type}" type mounts')
    if m.type == "secret":
        _validate_secret(m)
    if m.type == "ssh" and m.source:
        raise InvalidParameter("ssh does not support source")
    if m.sharing and m.type != "cache":
        raise InvalidParameter(f"invalid cache sharing set for {m.type} mount")
    if m.type == "tmpfs" and m.from_:
        raise InvalidParameter("tmpfs mount should not have a from")
    return m


def _validate_secret(m: RunMount) -> None:
    if m.from_:
        raise InvalidParameter("secret mount should not have a from")
    if m.sharing:
        raise InvalidParameter("secret mount should not define sharing")
    if not (m.source or m.target or m.id):
        raise InvalidParameter("invalid secret mount. one of source, target required")
    if m.source and m.id:
        raise InvalidParameter("both source and id can't be set")


def resolve(m: RunMount, workdir: str) -> RunMount:
    """The defaults that depend on the stage: absolute target, ids, read-only, sharing."""
    if m.type == "secret":
        secret_id = m.source or m.id or posixpath.basename(m.target)
        target = m.target or f"{SECRETS_DIR}/{posixpath.basename(secret_id)}"
        m = replace(m, id=secret_id, source="", target=target)
    if m.type == "ssh":
        m = replace(m, id=m.id or "default", mode=SSH_MODE if m.mode is None else m.mode)
    target = posixpath.normpath(posixpath.join("/", workdir or "/", m.target))
    if target == "/":
        raise InvalidParameter(f'invalid mount target "{target}"')
    readonly = m.readonly if m.readonly is not None else m.type in ("bind", "secret", "ssh")
    m = replace(m, target=target, readonly=readonly)
    if m.type == "cache":
        m = replace(m, id=m.id or target, sharing=m.sharing or "shared")
    return m


def run_mounts(ins: Instruction, env: Mapping[str, str], escape: str, workdir: str) -> tuple[RunMount, ...]:  # fmt: skip
    """Every `--mount` of a RUN, expanded and resolved; duplicate targets are refused."""
    parsed = [parse_mount(value, lambda v: expand_word(v, env, escape)) for value in ins.flag_values("mount")]  # fmt: skip
    mounts = [resolve(m, workdir) for m in _ssh_targets(parsed)]
    seen: set[str] = set()
    for m in mounts:
        if m.target in seen:
            raise InvalidParameter(f"duplicate mount target {m.target}")
        seen.add(m.target)
    return tuple(mounts)


def _ssh_targets(mounts: list[RunMount]) -> list[RunMount]:
    """BuildKit's default target of the n-th ssh mount of a RUN (n from 0, in flag order)."""
    ssh = [i for i, m in enumerate(mounts) if m.type == "ssh"]
    found = list(mounts)
    for n, i in enumerate(ssh):
        if not found[i].target:
            found[i] = replace(found[i], target=SSH_AGENT_TARGET.format(n))
    return found


def ssh_env(mounts: tuple[RunMount, ...], env_names: set[str]) -> dict[str, str]:
    """SSH_AUTH_SOCK naming the first ssh mount, as BuildKit sets it, unless the stage's
    environment has one (it is the step's environment only: never in the image config)."""
    for m in mounts:
        if m.type == "ssh":
            return {} if "SSH_AUTH_SOCK" in env_names else {"SSH_AUTH_SOCK": m.target}
    return {}


def run_network(ins: Instruction) -> str:
    """`RUN --network=default|none|host` (the last one given wins, as BuildKit's flag does)."""
    values = ins.flag_values("network")
    mode = values[-1] if values else "default"
    if mode not in NETWORK_MODES:
        raise InvalidParameter(f"unsupported network mode {mode!r}")
    return mode


def step_flags(mounts: tuple[RunMount, ...], network: str) -> str:
    """What the mount and network flags add to a RUN's cache key (never a secret's content)."""
    parts = [m.describe() for m in mounts]
    return f"network={network};" + ";".join(parts)

"""Dockerfile text → typed instructions. Pure.

What the parser handles, as Docker's does: the `# escape=` directive (backslash or backtick),
line continuations with the escape character, comments (whole lines starting with `#`, also
inside a continued instruction), empty continuation lines, flags (`--from=x`), and the JSON
(exec) form of RUN/CMD/ENTRYPOINT/SHELL/COPY/ADD/VOLUME. Arguments are kept unexpanded:
variables are expanded later, per stage, by `expand` (Docker expands at build time, not parse).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dockwright.errors import InvalidParameter, NotImplementedYet
from dockwright.types.execform import exec_form

KEYWORDS = frozenset(
    [
        "add",
        "arg",
        "cmd",
        "copy",
        "entrypoint",
        "env",
        "expose",
        "from",
        "healthcheck",
        "label",
        "maintainer",
        "onbuild",
        "run",
        "shell",
        "stopsignal",
        "user",
        "volume",
        "workdir",
    ]
)
JSON_FORMS = frozenset({"run", "cmd", "entrypoint", "shell", "copy", "add", "volume"})
FLAGS = {
    "from": frozenset({"platform"}),
    "copy": frozenset({"from", "chown", "chmod", "link", "exclude", "parents"}),
    "add": frozenset({"chown", "chmod", "link", "checksum", "exclude", "keep-git-dir"}),
    "run": frozenset({"mount", "network"}),
    "healthcheck": frozenset({"interval", "timeout", "start-period", "start-interval", "retries"}),
}
# flags Docker knows that this builder does not implement yet: refused rather than ignored
UNSUPPORTED_FLAGS = frozenset({"security"})
HEREDOC_KEYWORDS = frozenset({"run", "copy", "add"})
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_FLAG = re.compile(r"^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(.*))?$")


@dataclass(frozen=True)
class Heredoc:
    """`<<NAME` ... `NAME`: the body (newline-terminated lines); quoted names do not expand."""

    name: str
    content: str
    expand: bool = True


@dataclass(frozen=True)
class Instruction:
    """One instruction: `keyword` lowercase, `rest` the unexpanded text after the flags.

    `json` is the exec form's list when the text was a JSON array of strings, else None.
    `original` is the instruction as written (continuations joined), shown in "Step i/n".
    """

    keyword: str
    rest: str
    flags: tuple[tuple[str, str], ...] = ()
    json: tuple[str, ...] | None = None
    original: str = ""
    line: int = 0
    heredocs: tuple[Heredoc, ...] = ()

    def flag(self, name: str, default: str = "") -> str:
        """The first value of flag `name` (`default` when absent)."""
        for key, value in self.flags:
            if key == name:
                return value
        return default

    def flag_values(self, name: str) -> list[str]:
        """Every value of a repeatable flag (`--mount`, `--exclude`), in order."""
        return [value for key, value in self.flags if key == name]


@dataclass(frozen=True)
class Dockerfile:
    instructions: tuple[Instruction, ...]
    escape: str = "\\"
    directives: dict[str, str] = field(default_factory=dict)


def parse(text: str) -> Dockerfile:
    """Parse a whole Dockerfile; InvalidParameter names the line of an unknown instruction."""
    lines = text.replace("\r\n", "\n").split("\n")
    directives, start = _directives(lines)
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise InvalidParameter(f"invalid escape token '{escape}' does not match ` or \\")
    out = [
        _instruction(lg.text, lg.line, lg.heredocs) for lg in _logical(lines[start:], escape, start)
    ]
    return Dockerfile(tuple(out), escape, directives)


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    """Parser directives: `# name=value` lines at the very top, before anything else."""
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        m = _DIRECTIVE.match(line.strip())
        if m is None or m.group(1).lower() in found:
            return found, index
        found[m.group(1).lower()] = m.group(2)
    return found, len(lines)


def _logical(lines: list[str], escape: str, offset: int) -> list[_Logical]:
    """Join continued lines, drop comments and blank lines, and take heredoc bodies."""
    out: list[_Logical] = []
    parts: list[str] = []
    first = 0
    index = 0
    while index < len(lines):
        raw = lines[index]
        index += 1
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if not parts:
            first = offset + index
        body = raw.rstrip()
        if body.endswith(escape):
            parts.append(body[:-1])
            continue
        parts.append(raw)
        text = "".join(parts).strip()
        parts = []
        docs, index = _heredocs(text, lines, index)
        out.append(_Logical(text, first, docs))
    if parts:
        out.append(_Logical("".join(parts).strip(), first, ()))
    return out


@dataclass(frozen=True)
class _Logical:
    text: str
    line: int
    heredocs: tuple[Heredoc, ...]


def _heredocs(text: str, lines: list[str], index: int) -> tuple[tuple[Heredoc, ...], int]:
    """The bodies of the heredocs `text` opens (RUN/COPY/ADD only), read from `lines[index:]`."""
    if text.split(None, 1)[0].lower() not in HEREDOC_KEYWORDS:
        return (), index
    docs = []
    for m in _HEREDOC.finditer(text):
        chomp, quote, name = m.group(1) == "-", m.group(2), m.group(3)
        body: list[str] = []
        while True:
            if index >= len(lines):
                raise InvalidParameter(f"unterminated heredoc {name} in {text!r}")
            line = lines[index]
            index += 1
            if (line.lstrip("\t") if chomp else line) == name:
                break
            body.append(line.lstrip("\t") if chomp else line)
        docs.append(Heredoc(name, "".join(b + "\n" for b in body), expand=not quote))
    return tuple(docs), index


def _instruction(text: str, line: int, heredocs: tuple[Heredoc, ...] = ()) -> Instruction:
    keyword, _, rest = text.partition(" ") if " " in text else (text, "", "")
    if "\t" in keyword:
        keyword, _, tail = keyword.partition("\t")
        rest = tail + " " + rest
    keyword = keyword.lower()
    if keyword not in KEYWORDS:
        raise InvalidParameter(
            f"dockerfile parse error line {line}: unknown instruction: {keyword.upper()}"
        )
    flags, rest = _flags(rest.strip())
    _check_flags(keyword, flags, line)
    form = exec_form(rest) if keyword in JSON_FORMS else None
    return Instruction(keyword, rest, flags, form, text, line, heredocs)


def _flags(rest: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """Leading `--name=value` words (Docker's BFlags); the rest is the instruction's text."""
    flags: list[tuple[str, str]] = []
    while rest.startswith("--"):
        word, _, tail = rest.partition(" ")
        m = _FLAG.match(word)
        if m is None:
            break
        flags.append((m.group(1).lower(), m.group(2) or ""))
        rest = tail.lstrip()
    return tuple(flags), rest


def _check_flags(keyword: str, flags: tuple[tuple[str, str], ...], line: int) -> None:
    for name, _value in flags:
        if name in FLAGS.get(keyword, ()):
            continue
        if name in UNSUPPORTED_FLAGS:
            raise NotImplementedYet(
                f"dockerfile line {line}: {keyword.upper()} --{name} is not supported yet"
            )
        raise InvalidParameter(f"dockerfile parse error line {line}: unknown flag: {name}")

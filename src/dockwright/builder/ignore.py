""".dockerignore: Docker's pattern semantics (moby/patternmatcher). Pure.

- one pattern a line; `#` lines and blank lines are skipped; surrounding spaces trimmed;
- a leading `!` makes an exception (re-includes what earlier patterns excluded);
- patterns are cleaned like Go's filepath.Clean and a leading `/` is dropped;
- `*` matches within one path segment, `?` one character, `[a-z]` a class, `**` any number of
  segments (including none), `\\` escapes the next character;
- a path is matched when the pattern matches it or any of its parent directories;
- the last matching pattern decides.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

ALWAYS_KEPT = ("Dockerfile", ".dockerignore")  # Docker sends them even when ignored


BELOW = r"(?:/[\s\S]*)?"  # a pattern that matches a directory matches what is below it


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]  # fullmatch: the path itself or below a path the pattern matches


def parse_ignore(text: str) -> list[Pattern]:
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        cleaned = posixpath.normpath(line).lstrip("/") if line else ""
        if cleaned in ("", "."):
            continue
        out.append(Pattern(cleaned, exclusion, re.compile(_regex(cleaned) + BELOW)))
    return out


def _regex(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out.append("(?:.*/)?")
            else:
                out.append(".*")
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            close = pattern.find("]", i + 1)
            if close < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : close]
                body = "^" + body[1:] if body.startswith("!") else body
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = close
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return "(?:" + "".join(out) + ")"


def _matches(pattern: Pattern, path: str) -> bool:
    """The pattern matches `path` or one of its parent directories (its regex ends in BELOW)."""
    return pattern.regex.fullmatch(path) is not None


def is_ignored(patterns: list[Pattern], path: str) -> bool:
    """Whether `path` (relative to the context, '/'-separated) is excluded."""
    if not patterns:
        return False  # the usual case for COPY --exclude: no cleaning of every path
    path = posixpath.normpath(path).lstrip("/")
    ignored = False
    for pattern in patterns:
        if pattern.exclusion == ignored and _matches(pattern, path):
            ignored = not pattern.exclusion
    return ignored


def may_reinclude_below(patterns: list[Pattern], directory: str) -> bool:
    """Whether some exception could re-include a path under an excluded `directory`."""
    if not patterns:
        return False
    prefix = posixpath.normpath(directory).lstrip("/") + "/"
    return any(p.exclusion and (p.text.startswith(prefix) or "*" in p.text) for p in patterns)

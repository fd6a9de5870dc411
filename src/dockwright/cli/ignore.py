"""`.dockerignore` patterns with docker's rules, so the CLI never sends ignored files.

Rules (moby/patternmatcher): patterns are cleaned paths relative to the context (a leading `/`
is dropped); `*` and `?` stay inside one path element, `**` spans any number of them, `!`
re-includes; the last pattern that matches decides; a pattern matching a directory also
matches everything below it. Reimplemented here because the CLI cannot import the builder.
"""

from __future__ import annotations

import posixpath
import re


class Pattern:
    """One line of a .dockerignore, compiled."""

    __slots__ = ("text", "exclusion", "regex")

    def __init__(self, text: str, exclusion: bool) -> None:
        self.text, self.exclusion = text, exclusion
        # the path itself, or anything below a directory the pattern matches
        self.regex = re.compile("(?:" + _to_regex(text) + r")(?:/[\s\S]*)?")

    def matches(self, path: str) -> bool:
        """The path itself or one of its parent directories matches."""
        return self.regex.fullmatch(path) is not None


def read_patterns(text: str) -> list[str]:
    """The pattern lines of a .dockerignore: comments and blank lines dropped, paths cleaned."""
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        body = line[1:].strip() if neg else line
        body = posixpath.normpath(body).lstrip("/") or "."
        found.append(("!" if neg else "") + body)
    return found


def _to_regex(pattern: str) -> str:
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out.append("(?:.*/)?")
                i += 1
            else:
                out.append(".*")
            continue
        i += 1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(c))
                continue
            body = pattern[i:end].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body.startswith(("^", "!")) else f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(c))
    return "".join(out)


class Matcher:
    """All patterns of one context; `excluded(path)` is what docker's matcher answers."""

    def __init__(self, lines: list[str]) -> None:
        self.patterns = [
            Pattern(line[1:], True) if line.startswith("!") else Pattern(line, False)
            for line in lines
            if line not in (".", "!.")
        ]
        self.has_exceptions = any(p.exclusion for p in self.patterns)

    def excluded(self, path: str) -> bool:
        result = False
        for pattern in self.patterns:
            if pattern.exclusion == result and pattern.matches(path):
                result = not pattern.exclusion
        return result

    def may_include_below(self, directory: str) -> bool:
        """Whether an exception could re-include something under an excluded directory."""
        if not self.has_exceptions:
            return False
        prefix = directory + "/"
        return any(
            p.exclusion
            and (p.text.startswith(prefix) or prefix.startswith(_literal_prefix(p.text)))
            for p in self.patterns
        )


def _literal_prefix(text: str) -> str:
    """The part of a pattern before its first wildcard (`a/b*` -> `a/b`)."""
    m = re.search(r"[*?\[\\]", text)
    return text if m is None else text[: m.start()]

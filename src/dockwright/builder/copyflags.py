"""The COPY/ADD flags beyond --from/--chown/--chmod, checked and made typed. Pure.

- `--exclude=PATTERN` (repeatable, COPY and ADD): .dockerignore pattern syntax. A source match is
  dropped when a pattern matches its path relative to the context (or the image root of
  `--from`); inside a directory source, entries are matched by their path relative to that
  directory (BuildKit's fsutil copier does the same).
- `--parents` (COPY): each match keeps its path relative to the context, or relative to the
  `/./` pivot when the source has one (`COPY --parents ./a/./b/c.txt /d/` writes `/d/b/c.txt`);
  the destination is then always a directory.
- `--link` (COPY and ADD): accepted. BuildKit then builds the layer independently of the parent
  so it can be rebased; this builder always makes a plain diff layer, whose contents are the same.
- `--checksum=ALGO:HEX` (ADD): the digest a URL source must have; only one source, only an
  http(s) URL (BuildKit's rules and messages; not a git source here).
- `--keep-git-dir` (ADD of a git repository, builder/gitref.py says which sources are): keep
  the `.git` directory of the checkout; without it (the default) it is left out.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from dockwright.builder.expand import expand_word
from dockwright.builder.gitref import is_add_source, is_http_url
from dockwright.builder.ignore import Pattern, is_ignored, parse_ignore
from dockwright.builder.parser import Instruction
from dockwright.errors import InvalidParameter

DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
PIVOT = "/./"


@dataclass(frozen=True)
class CopyFlags:
    excludes: tuple[str, ...] = ()
    parents: bool = False
    link: bool = False
    checksum: str = ""  # "sha256:<hex>"
    keep_git_dir: bool = False

    def patterns(self) -> list[Pattern]:
        """The --exclude patterns, parsed as .dockerignore lines."""
        return parse_ignore("\n".join(self.excludes))

    def cache_text(self) -> str:
        """What the flags add to the step's cache key (every one changes the result)."""
        text = f"exclude={list(self.excludes)}:parents={self.parents}:link={self.link}:checksum={self.checksum}"
        return text + ":keep-git-dir" if self.keep_git_dir else text  # keys made before it stay


def bool_flag(ins: Instruction, name: str) -> bool:
    """A boolean flag: absent false; bare, `=true` or `=1` true; InvalidParameter for junk."""
    values = ins.flag_values(name)
    if not values:
        return False
    text = values[-1].lower()
    if text in ("", "true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise InvalidParameter(f"invalid boolean value {values[-1]!r} for --{name}")


def parse_checksum(text: str) -> str:
    """`ALGO:HEX` lowercased, as go-digest validates it; InvalidParameter names the input."""
    algo, sep, hexpart = text.partition(":")
    if not sep:
        raise InvalidParameter(f"invalid checksum digest format: {text}")
    if algo not in DIGEST_LENGTHS:
        raise InvalidParameter(f"unsupported digest algorithm: {text}")
    if len(hexpart) != DIGEST_LENGTHS[algo] or not re.fullmatch(r"[0-9a-fA-F]+", hexpart):
        raise InvalidParameter(f"invalid checksum digest length: {text}")
    return f"{algo}:{hexpart.lower()}"


def is_url(source: str) -> bool:
    """A remote ADD source: an http(s) URL or a git repository (fetched, not in the context)."""
    return is_http_url(source) or is_add_source(source)


def check_checksum(keyword: str, sources: list[str], checksum: str) -> None:
    """BuildKit's rules for where --checksum is allowed."""
    if not checksum:
        return
    if keyword != "add":
        raise InvalidParameter("checksum can't be specified for COPY")
    if len(sources) != 1:
        raise InvalidParameter("checksum can't be specified for multiple sources")
    if not is_http_url(sources[0]) or is_add_source(sources[0]):
        raise InvalidParameter("checksum can't be specified for non-HTTP(S) sources")


def copy_flags(ins: Instruction, sources: list[str], env: Mapping[str, str],
               escape: str) -> CopyFlags:  # fmt: skip
    """The instruction's flags, expanded (Docker expands COPY/ADD flags) and validated."""
    checksum = expand_word(ins.flag("checksum"), env, escape)
    flags = CopyFlags(
        excludes=tuple(expand_word(v, env, escape) for v in ins.flag_values("exclude")),
        parents=bool_flag(ins, "parents"),
        link=bool_flag(ins, "link"),
        checksum=parse_checksum(checksum) if checksum else "",
        keep_git_dir=bool_flag(ins, "keep-git-dir"),
    )
    check_checksum(ins.keyword, sources, flags.checksum)
    for pattern in flags.excludes:
        if not pattern.strip():
            raise InvalidParameter("--exclude requires a non-empty pattern")
    return flags


def parents_path(pattern: str, match: str) -> str:
    """Where `--parents` puts a match (both relative to the source root), relative to dest.

    Without a pivot the match keeps its whole path; with `/./` it keeps the part below it.
    """
    match = posixpath.normpath("/" + match).lstrip("/")
    if PIVOT not in pattern:
        return match
    pivot = posixpath.normpath("/" + pattern.split(PIVOT, 1)[0]).lstrip("/")
    if not pivot:
        return match
    if match != pivot and not match.startswith(pivot + "/"):
        raise InvalidParameter(f"{match} is not below the --parents pivot of {pattern}")
    return match[len(pivot) :].lstrip("/") or "."


def excluded(patterns: list[Pattern], path: str) -> bool:
    """Whether an --exclude pattern removes `path` (relative, '/'-separated)."""
    return bool(patterns) and is_ignored(patterns, path)

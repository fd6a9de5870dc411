"""Pieces shared by the command tables: flag kinds, common flags, constructors."""

from __future__ import annotations

from dockwright.cli.flags import Command, Flag

S, N, L, B = "str", "int", "list", "bool"
FORMAT = Flag("format", "", S, "", "Format output using a custom template", "string")
FORMAT_F = Flag("format", "f", S, "", "Format output using a custom template", "string")
FILTER = Flag(
    "filter", "f", L, help="Filter output based on conditions provided", type_name="filter"
)
PRUNE_FILTER = Flag(
    "filter", "", L, help='Provide filter values (e.g. "until=<timestamp>")', type_name="filter"
)
SIGNAL = Flag("signal", "s", S, "", "Signal to send to the container")
TIMEOUT = Flag("timeout", "t", N, None, "Seconds to wait before killing the container", "int")
DETACH_KEYS = Flag("detach-keys", "", S, "", "Override the key sequence for detaching a container")
M = "dockwright.cli."


def cmd(name: str, usage: str, summary: str, handler: str, *flags: Flag, **kw: object) -> Command:
    return Command(name, usage, summary, flags, M + handler, **kw)  # type: ignore[arg-type]


def lazy(name: str, usage: str, summary: str, handler: str, flags: str, **kw: object) -> Command:
    """A command whose (many) flags live in spec_run and load only when it runs."""
    return Command(name, usage, summary, M + flags, M + handler, **kw)  # type: ignore[arg-type]

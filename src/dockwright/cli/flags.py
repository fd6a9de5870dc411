"""Docker-style (pflag) command-line parsing: a tiny parser because argparse cannot do it.

What docker's parser does and argparse does not: stop at the first positional for `run`/`exec`
(the container's own flags follow), `-itd` bundles, `-eFOO=1` and `-e=FOO=1`, `--rm=false`,
and its exact error texts (`unknown flag: --foo`, `flag needs an argument: 'e' in -e`). It also
imports nothing heavy, which keeps `dockwright ps` fast.
"""

from __future__ import annotations

TYPE_CHECKING = False  # the parser runs on every invocation: no typing/dataclasses imports
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    Converter = Callable[[str], Any]

TRUE = ("1", "t", "T", "TRUE", "true", "True")
FALSE = ("0", "f", "F", "FALSE", "false", "False")


class UsageError(Exception):
    """Bad command line; `status` is 125 for flag errors (docker) or 1 for argument counts."""

    def __init__(self, message: str, command: Command | None, status: int = 125) -> None:
        super().__init__(message)
        self.command = command
        self.status = status


class Flag:
    """One option. kind: bool | str | int | list | float. `type_name` is shown in help."""

    __slots__ = ("long", "short", "kind", "default", "help", "type_name", "convert", "hidden")

    def __init__(
        self,
        long: str,
        short: str = "",
        kind: str = "bool",
        default: Any = None,
        help: str = "",
        type_name: str = "",
        convert: Converter | None = None,
        hidden: bool = False,
    ) -> None:
        self.long, self.short, self.kind, self.default = long, short, kind, default
        self.help, self.type_name, self.convert, self.hidden = help, type_name, convert, hidden

    def __repr__(self) -> str:
        return f"Flag({self.long!r})"

    @property
    def dest(self) -> str:
        return self.long.replace("-", "_")

    @property
    def label(self) -> str:
        return f"-{self.short}, --{self.long}" if self.short else f"--{self.long}"

    def initial(self) -> Any:
        if self.kind == "list":
            return list(self.default or [])
        if self.default is None and self.kind == "bool":
            return False
        return self.default


class Command:
    """A command's grammar and help; `handler` is "module:function", imported lazily."""

    __slots__ = (
        "name",
        "usage",
        "summary",
        "_flags",
        "handler",
        "interspersed",
        "min_args",
        "max_args",
    )

    def __init__(
        self,
        name: str,
        usage: str,
        summary: str,
        flags: tuple[Flag, ...] | str = (),
        handler: str = "",
        interspersed: bool = True,
        min_args: int = 0,
        max_args: int | None = None,
    ) -> None:
        self.name, self.usage, self.summary, self._flags = name, usage, summary, flags
        self.handler, self.interspersed = handler, interspersed
        self.min_args, self.max_args = min_args, max_args

    @property
    def flags(self) -> tuple[Flag, ...]:
        """The flags; a "module:NAME" reference (run's ~100 flags) is imported on first use."""
        if isinstance(self._flags, str):
            import sys

            module, _, name = self._flags.partition(":")
            __import__(module)
            self._flags = tuple(getattr(sys.modules[module], name))
        return self._flags

    def __repr__(self) -> str:
        return f"Command({self.name!r})"

    def find_long(self, name: str) -> Flag | None:
        return next((f for f in self.flags if f.long == name), None)

    def find_short(self, name: str) -> Flag | None:
        return next((f for f in self.flags if f.short == name), None)


class Parsed:
    """Parsed options (by dest) and positionals; `given` lists the dests set explicitly."""

    def __init__(self, opts: dict[str, Any], args: list[str]) -> None:
        self.opts = opts
        self.args = args
        self.given: set[str] = set()
        self.help = False

    def __getattr__(self, name: str) -> Any:
        try:
            return self.opts[name]
        except KeyError:
            raise AttributeError(name) from None


HELP = Flag("help", "", "bool", help="Print usage")


def parse_bool(text: str) -> bool:
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def _parse_int(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax') from None


_KIND_CONVERT: dict[str, Converter] = {"int": _parse_int, "float": _parse_float, "bool": parse_bool}


def _store(cmd: Command, result: Parsed, flag: Flag, text: str) -> None:
    convert = flag.convert or _KIND_CONVERT.get(flag.kind)
    try:
        value = convert(text) if convert else text
    except ValueError as exc:
        raise UsageError(f'invalid argument "{text}" for "{flag.label}" flag: {exc}', cmd) from None
    if flag.kind == "list":
        result.opts[flag.dest].append(value)
    else:
        result.opts[flag.dest] = value
    result.given.add(flag.dest)


class _Cursor:
    def __init__(self, argv: Sequence[str]) -> None:
        self.argv, self.i = list(argv), 0

    def next_value(self) -> str | None:
        if self.i >= len(self.argv):
            return None
        self.i += 1
        return self.argv[self.i - 1]


def _long(cmd: Command, result: Parsed, arg: str, cur: _Cursor) -> None:
    name, eq, value = arg[2:].partition("=")
    flag = cmd.find_long(name) or (HELP if name == "help" else None)
    if flag is None:
        raise UsageError(f"unknown flag: --{name}", cmd)
    if flag is HELP:
        result.help = True
    elif flag.kind == "bool" and not eq:
        _store(cmd, result, flag, "true")
    else:
        text = value if eq else cur.next_value()
        if text is None:
            raise UsageError(f"flag needs an argument: --{name}", cmd)
        _store(cmd, result, flag, text)


def _shorts(cmd: Command, result: Parsed, arg: str, cur: _Cursor) -> None:
    letters = arg[1:]
    for pos, letter in enumerate(letters):
        flag = cmd.find_short(letter)
        if flag is None:
            if letter == "h":
                result.help = True
                continue
            raise UsageError(f"unknown shorthand flag: '{letter}' in {arg}", cmd)
        rest = letters[pos + 1 :]
        if flag.kind == "bool" and not rest.startswith("="):
            _store(cmd, result, flag, "true")
            continue
        text = rest[1:] if rest.startswith("=") else rest or cur.next_value()
        if text is None:
            raise UsageError(f"flag needs an argument: '{letter}' in -{letter}", cmd)
        _store(cmd, result, flag, text)
        return


def parse(cmd: Command, argv: Sequence[str]) -> Parsed:
    """Parse `argv` (the words after the command name) against `cmd`'s flags."""
    result = Parsed({f.dest: f.initial() for f in cmd.flags}, [])
    cur = _Cursor(argv)
    while (arg := cur.next_value()) is not None:
        if arg == "--":
            result.args += cur.argv[cur.i :]
            break
        if arg.startswith("--"):
            _long(cmd, result, arg, cur)
        elif arg.startswith("-") and arg != "-":
            _shorts(cmd, result, arg, cur)
        else:
            result.args.append(arg)
            if not cmd.interspersed:
                result.args += cur.argv[cur.i :]
                break
    return result


def check_args(cmd: Command, full: str, args: Sequence[str]) -> None:
    """Enforce the positional count with docker's wording (exit status 1); `full` is what the
    user typed to name the command, e.g. `dockwright container rm`."""
    n = len(args)
    if n < cmd.min_args:
        if cmd.max_args == cmd.min_args:
            word = "argument" if cmd.min_args == 1 else "arguments"
            msg = f"'{full}' requires exactly {cmd.min_args} {word}"
        else:
            word = "argument" if cmd.min_args == 1 else "arguments"
            msg = f"'{full}' requires at least {cmd.min_args} {word}"
        raise UsageError(msg, cmd, status=1)
    if cmd.max_args is not None and n > cmd.max_args:
        if cmd.max_args == 0:
            msg = f"'{full}' accepts no arguments"
        elif cmd.max_args == cmd.min_args:
            word = "argument" if cmd.min_args == 1 else "arguments"
            msg = f"'{full}' requires exactly {cmd.min_args} {word}"
        else:
            msg = f"'{full}' requires at most {cmd.max_args} arguments"
        raise UsageError(msg, cmd, status=1)


def usage_line(cmd: Command, full: str) -> str:
    """`Usage:` text for the words the user typed: `dockwright container rm [OPTIONS] ...`."""
    rest = cmd.usage.split(" ", 1)[1] if " " in cmd.usage else ""
    return f"{full} {rest}".rstrip()


def format_help(cmd: Command, full: str) -> str:
    """The `--help` text: usage, summary, options in docker's layout."""
    lines = [f"Usage:  {usage_line(cmd, full)}", "", cmd.summary, ""]
    flags = [f for f in cmd.flags if not f.hidden]
    if flags:
        labels = [_help_label(f) for f in flags]
        width = max(len(s) for s in labels)
        lines.append("Options:")
        for flag, label in zip(flags, labels, strict=True):
            lines.append(f"  {label.ljust(width)}   {_help_text(flag)}".rstrip())
    return "\n".join(lines).rstrip() + "\n"


def _help_label(flag: Flag) -> str:
    head = f"-{flag.short}, --{flag.long}" if flag.short else f"    --{flag.long}"
    type_name = flag.type_name or {"str": "string", "int": "int", "list": "list"}.get(flag.kind, "")
    return f"{head} {type_name}" if type_name else head


def _help_text(flag: Flag) -> str:
    shown = flag.default not in (None, False, "", [], ())
    return f"{flag.help} (default {flag.default})" if shown else flag.help

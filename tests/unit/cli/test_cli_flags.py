"""The docker-style flag parser: bundles, values, interspersing and docker's error texts."""

from __future__ import annotations

import pytest

from dockwright.cli import spec
from dockwright.cli.flags import Command, Flag, UsageError, check_args, format_help, parse
from dockwright.cli.main import run_cli

pytestmark = pytest.mark.unit

RUN = spec.COMMANDS["container run"]
RM = spec.COMMANDS["container rm"]


def test_bundled_shorts_and_values() -> None:
    p = parse(RUN, ["-itd", "-eA=1", "-e", "B=2", "--name=web", "busybox", "sh"])
    assert (p.interactive, p.tty, p.detach) == (True, True, True)
    assert p.env == ["A=1", "B=2"]
    assert p.name == "web"
    assert p.args == ["busybox", "sh"]


def test_run_stops_at_the_first_positional() -> None:
    p = parse(RUN, ["--rm", "busybox", "ls", "-la", "--name", "x"])
    assert p.args == ["busybox", "ls", "-la", "--name", "x"]
    assert p.name == ""


def test_other_commands_take_flags_after_positionals() -> None:
    p = parse(RM, ["web", "-f", "db"])
    assert p.force is True and p.args == ["web", "db"]


def test_double_dash_ends_flags() -> None:
    assert parse(RM, ["--", "-f"]).args == ["-f"]


def test_bool_with_explicit_value() -> None:
    assert parse(RUN, ["--rm=false", "img"]).rm is False
    assert parse(RUN, ["--sig-proxy=false", "img"]).sig_proxy is False
    assert parse(RUN, ["-d=true", "img"]).detach is True


def test_short_value_with_equals_and_attached() -> None:
    assert parse(RUN, ["-e=X=1", "-uroot", "img"]).opts["env"] == ["X=1"]
    assert parse(RUN, ["-uroot", "img"]).user == "root"


def test_given_tracks_explicit_flags() -> None:
    p = parse(RUN, ["--init", "--pids-limit", "10", "img"])
    assert {"init", "pids_limit"} <= p.given
    assert "stop_timeout" not in p.given


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--foo"], "unknown flag: --foo"),
        (["-z"], "unknown shorthand flag: 'z' in -z"),
        (["--name"], "flag needs an argument: --name"),
        (["-e"], "flag needs an argument: 'e' in -e"),
        (
            ["-m", "12qq", "img"],
            'invalid argument "12qq" for "-m, --memory" flag: invalid suffix: \'qq\'',
        ),
    ],
)
def test_errors_are_dockers(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(RUN, argv)
    assert str(info.value) == message
    assert info.value.status == 125


def test_int_flag_error() -> None:
    with pytest.raises(
        UsageError, match=r'invalid argument "abc" for "-n, --last" flag: strconv.ParseInt'
    ):
        parse(spec.COMMANDS["container ls"], ["-n", "abc"])


def test_argument_counts() -> None:
    with pytest.raises(UsageError, match=r"^'dockwright rm' requires at least 1 argument$"):
        check_args(RM, "dockwright rm", [])
    rename = spec.COMMANDS["container rename"]
    with pytest.raises(UsageError, match="requires exactly 2 arguments"):
        check_args(rename, "dockwright rename", ["a"])
    with pytest.raises(UsageError, match="accepts no arguments"):
        check_args(spec.COMMANDS["container ls"], "dockwright ps", ["x"])


def test_help_lists_flags() -> None:
    text = format_help(RM, "dockwright container rm")
    assert text.startswith("Usage:  dockwright container rm [OPTIONS] CONTAINER [CONTAINER...]\n")
    assert "  -f, --force " in text


def test_unknown_flag_output_and_status(capsys: pytest.CaptureFixture[str]) -> None:
    ctx_status = run_cli(_ctx(), ["run", "--foo"])
    err = capsys.readouterr().err
    assert ctx_status == 125
    assert err == (
        "unknown flag: --foo\n\nUsage:  dockwright run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
        "Run 'dockwright run --help' for more information\n"
    )


def test_missing_argument_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(_ctx(), ["container", "rm"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dockwright: 'dockwright container rm' requires at least 1 argument\n")
    assert err.endswith("See 'dockwright container rm --help' for more information\n")


def test_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(_ctx(), ["frobnicate"]) == 1
    assert "unknown command: dockwright frobnicate" in capsys.readouterr().err


def test_routes_share_definitions() -> None:
    assert spec.resolve(["ps", "-a"]) == ("container ls", ["-a"])
    assert spec.resolve(["container", "list"]) == ("container ls", [])
    assert spec.resolve(["rmi", "x"]) == ("image rm", ["x"])
    assert spec.resolve(["image", "bootstrap", "busybox"]) == ("image bootstrap", ["busybox"])


def test_every_handler_exists() -> None:
    from dockwright.cli.main import load_handler

    for cmd in spec.COMMANDS.values():
        assert callable(load_handler(cmd)), cmd.name


def test_flag_defaults_when_absent() -> None:
    cmd = Command("x", "x", "", (Flag("n", "", "int", 5), Flag("l", "", "list")))
    assert parse(cmd, []).opts == {"n": 5, "l": []}


def _ctx():  # type: ignore[no-untyped-def]
    import sys

    from dockwright.cli.context import Context

    return Context(stdout=sys.stdout, stderr=sys.stderr)

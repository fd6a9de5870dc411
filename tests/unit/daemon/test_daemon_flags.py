"""dockwrightd's command line: network and logging defaults map onto DaemonConfig."""

from __future__ import annotations

import pytest

from dockwright.daemon import parse_args
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit


def test_network_and_log_flags(tmp_path) -> None:
    flags = "--ipv6 --fixed-cidr-v6 fd00:1::/64 --icc=false --log-driver json-file"
    flags += " --log-opt max-size=1m --log-opt max-file=2"
    config = parse_args(["--data-root", str(tmp_path), *flags.split()])
    assert config.ipv6 and config.fixed_cidr_v6 == "fd00:1::/64"
    assert config.icc is False
    assert config.log_driver == "json-file"
    assert config.log_opts == {"max-size": "1m", "max-file": "2"}


def test_defaults_keep_icc_and_ipv4_only(tmp_path) -> None:
    config = parse_args(["--data-root", str(tmp_path)])
    assert config.icc is True and not config.ipv6 and config.log_opts == {}
    assert parse_args(["--data-root", str(tmp_path), "--icc"]).icc is True


def test_bad_values_are_refused(tmp_path) -> None:
    with pytest.raises(InvalidParameter, match="expected key=value"):
        parse_args(["--data-root", str(tmp_path), "--log-opt", "max-size"])
    with pytest.raises(SystemExit):
        parse_args(["--data-root", str(tmp_path), "--icc=maybe"])

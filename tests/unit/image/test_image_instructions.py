from __future__ import annotations

import pytest

from dockwright.errors import InvalidParameter
from dockwright.image.config import format_time, import_config, parse_time
from dockwright.image.instructions import apply_changes, process_word, split_words

pytestmark = pytest.mark.unit

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def test_cmd_and_entrypoint_json_and_shell_forms():
    c = apply_changes({}, ['CMD ["echo", "hi there"]', "ENTRYPOINT /bin/run --flag"])
    assert c["Cmd"] == ["echo", "hi there"]
    assert c["Entrypoint"] == ["/bin/sh", "-c", "/bin/run --flag"]
    assert apply_changes({}, ["cmd [not json"])["Cmd"] == ["/bin/sh", "-c", "[not json"]


def test_env_forms_quotes_and_expansion():
    c = apply_changes({"Env": [f"PATH={PATH}"]}, [
        'ENV A=1 B="two words" C=\'$A\'',
        "ENV D $A and ${B}",
        "ENV PATH=/opt/bin:$PATH",
        "ENV A=3",
    ])  # fmt: skip
    assert c["Env"] == [f"PATH=/opt/bin:{PATH}", "A=3", "B=two words", "C=$A", "D=1 and two words"]


def test_label_expose_user_workdir_volume_stopsignal():
    c = apply_changes({}, [
        'LABEL a=b "c d"="e f"',
        "EXPOSE 80 443/tcp 53/udp 8000-8002",
        "USER nobody:nogroup",
        "WORKDIR /app",
        "WORKDIR sub/../src",
        'VOLUME ["/data", "/logs"]',
        "VOLUME /cache /tmp/x",
        "STOPSIGNAL SIGINT",
    ])  # fmt: skip
    assert c["Labels"] == {"a": "b", "c d": "e f"}
    assert set(c["ExposedPorts"]) == {
        "80/tcp",
        "443/tcp",
        "53/udp",
        "8000/tcp",
        "8001/tcp",
        "8002/tcp",
    }
    assert c["User"] == "nobody:nogroup"
    assert c["WorkingDir"] == "/app/src"
    assert set(c["Volumes"]) == {"/data", "/logs", "/cache", "/tmp/x"}
    assert c["StopSignal"] == "SIGINT"


def test_input_config_is_not_changed():
    base = {"Env": ["A=1"]}
    apply_changes(base, ["ENV A=2"])
    assert base == {"Env": ["A=1"]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("RUN echo hi", "run is not a valid change command"),
        ("FROM busybox", "from is not a valid change command"),
        ("ENV", "ENV requires at least one argument"),
        ("ENV onlykey", "ENV must have two arguments"),
        ("ENV A=1 B", "can't find = in 'B'"),
        ("EXPOSE 99999", "invalid port specification"),
        ("EXPOSE 90-80", "invalid port range"),
        ("VOLUME", "VOLUME specified can not be an empty string"),
    ],
)
def test_bad_changes_are_rejected(change, message):
    with pytest.raises(InvalidParameter, match=message):
        apply_changes({}, [change])


def test_word_splitting_keeps_quotes_until_processed():
    assert split_words("a=\"b c\" 'd e' f\\ g") == ['a="b c"', "'d e'", "f\\ g"]
    assert process_word("\"x $V\" '$V' \\$V ${V:-d} ${U:-d}", {"V": "v"}) == "x v $V $V v d"


def test_import_config_shape():
    c = import_config(
        ["sha256:" + "1" * 64], ["CMD sh"], "imported", 1_700_000_000_123_000_000, "amd64"
    )
    assert c["architecture"] == "amd64" and c["os"] == "linux"
    assert c["created"] == "2023-11-14T22:13:20.123Z"
    assert c["config"] == {"Env": [f"PATH={PATH}"], "Cmd": ["/bin/sh", "-c", "sh"]}
    assert c["rootfs"] == {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]}
    assert c["history"] == [{"created": c["created"], "comment": "imported"}]
    assert c["comment"] == "imported"
    assert "comment" not in import_config([], [], "", 1)["history"][0]


def test_time_format_round_trip():
    for ns in (1_700_000_000_000_000_000, 1_700_000_000_000_000_001, 1_700_000_000_500_000_000):
        assert parse_time(format_time(ns)) == ns
    assert format_time(1_700_000_000_500_000_000) == "2023-11-14T22:13:20.5Z"
    assert format_time(0) == "0001-01-01T00:00:00Z"
    assert parse_time("2023-11-14T23:13:20+01:00") == 1_700_000_000_000_000_000
    with pytest.raises(InvalidParameter):
        parse_time("yesterday")

"""The Go-template subset: fields, functions, control flow, Go's printing, and errors."""

from __future__ import annotations

import pytest

from dockwright.cli.template import Template, go_str, render, to_json
from dockwright.cli.template_parse import TemplateError

pytestmark = pytest.mark.unit

DATA = {
    "Id": "abc123",
    "Name": "/web",
    "State": {"Status": "running", "Running": True, "Pid": 42, "ExitCode": 0},
    "Config": {"Env": ["A=1", "B=2"], "Labels": {"z": "last", "a": "first"}, "Cmd": None},
    "Mounts": [],
}


@pytest.mark.parametrize(
    ("src", "out"),
    [
        ("{{.Id}}", "abc123"),
        ("{{.State.Status}}", "running"),
        ("{{.State.Running}} {{.State.Pid}}", "true 42"),
        ("{{json .State}}", '{"Status":"running","Running":true,"Pid":42,"ExitCode":0}'),
        ("{{json .Config.Env}}", '["A=1","B=2"]'),
        ("{{.Config.Env}}", "[A=1 B=2]"),
        ("{{.Config.Labels}}", "map[a:first z:last]"),
        ("{{.Config.Cmd}}", "<nil>"),
        ("{{.Missing}}", "<no value>"),
        ("{{range .Config.Env}}[{{.}}]{{end}}", "[A=1][B=2]"),
        ("{{range $i, $e := .Config.Env}}{{$i}}={{$e}} {{end}}", "0=A=1 1=B=2 "),
        ("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}", "a:first,z:last,"),
        ("{{range .Mounts}}m{{else}}none{{end}}", "none"),
        ('{{index .Config.Labels "z"}}', "last"),
        ("{{index .Config.Env 1}}", "B=2"),
        ('{{join .Config.Env ","}}', "A=1,B=2"),
        ('{{split "a:b" ":"}}', "[a b]"),
        ("{{lower .State.Status}} {{upper .State.Status}}", "running RUNNING"),
        ('{{title "hello world"}}', "Hello World"),
        ('{{printf "%s has pid %d" .Name .State.Pid}}', "/web has pid 42"),
        ('{{printf "%-8s|" .State.Status}}', "running |"),
        ('{{.State.Pid | printf "%05d"}}', "00042"),
        ("{{with .State}}{{.Status}}{{end}}", "running"),
        ("{{with .Missing}}x{{else}}empty{{end}}", "empty"),
        ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
        ('{{if eq .State.Status "exited"}}e{{else if .State.Running}}r{{end}}', "r"),
        ("{{if and .State.Running (not .State.ExitCode)}}ok{{end}}", "ok"),
        ("{{if or .Missing .Id}}{{len .Config.Env}}{{end}}", "2"),
        ("{{$n := .Name}}{{$n}}", "/web"),
        ("a {{- /* comment */ -}} b", "ab"),
        ("{{(index .Config.Env 0)}}", "A=1"),
        ('{{pad "x" 1 2}}|', " x  |"),
        ('{{truncate "abcdef" 3}}', "abc"),
        ("{{gt .State.Pid 10}}", "true"),
    ],
)
def test_render(src: str, out: str) -> None:
    assert render(src, DATA) == out


def test_objects_expose_attributes_and_methods() -> None:
    class Row:
        ID = "x"

        def Label(self, name: str) -> str:  # noqa: N802
            return f"label-{name}"

    assert render('{{.ID}} {{.Label "k"}}', Row()) == "x label-k"


def test_unknown_field_on_object_is_an_error() -> None:
    with pytest.raises(TemplateError, match="can't evaluate field Nope"):
        render("{{.Nope}}", object())


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("{{.Id", "unclosed action"),
        ("{{if .Id}}x", "unexpected EOF"),
        ("{{end}}", "unexpected"),
        ("{{nosuchfunc .Id}}", 'function "nosuchfunc" not defined'),
        ('{{"abc}}', "unterminated quoted string"),
    ],
)
def test_parse_errors(src: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        Template(src)


def test_go_printing() -> None:
    assert go_str(1.0) == "1"
    assert go_str(2.5) == "2.5"
    assert go_str(False) == "false"
    assert go_str([1, [2, 3]]) == "[1 [2 3]]"
    assert go_str({}) == "map[]"


def test_json_escapes_html_like_go() -> None:
    assert to_json("<a&b>") == '"\\u003ca\\u0026b\\u003e"'
    assert to_json({"k": "é"}) == '{"k":"é"}'


def test_go_field_names_reach_json_names() -> None:
    data = {"Id": "abc", "Server": {"ApiVersion": "1.45"}}
    assert render("{{.ID}} {{.Server.APIVersion}} {{.Id}}", data) == "abc 1.45 abc"

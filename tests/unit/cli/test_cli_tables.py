"""tabwriter alignment and --format handling (golden output)."""

from __future__ import annotations

import pytest

from dockwright.cli.formatter import render_items, resolve
from dockwright.cli.tables import TabWriter, tabwrite

pytestmark = pytest.mark.unit

HEADER = {"ID": "CONTAINER ID", "Names": "NAMES", "Image": "IMAGE"}
ROWS = [
    {"ID": "4d0b3c1a2e3f", "Names": "web", "Image": "busybox"},
    {"ID": "aa", "Names": "db", "Image": "x"},
]


def test_docker_ps_header_layout() -> None:
    header = "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n"
    assert tabwrite(header) == (
        "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
    )


def test_columns_grow_to_widest_cell_plus_padding() -> None:
    out = tabwrite("a\tbb\tc\nlonger-cell\tx\ty\n")
    assert out == "a             bb        c\nlonger-cell   x         y\n"


def test_last_cell_is_not_padded_and_blocks_restart() -> None:
    out = TabWriter(minwidth=1, padding=1).format("a\tb\nno tabs here\nccc\td\n")
    assert out == "a b\nno tabs here\nccc d\n"


def test_table_format_prints_header_then_rows() -> None:
    out = render_items("table {{.ID}}\t{{.Names}}", ROWS, HEADER)
    assert out == "CONTAINER ID   NAMES\n4d0b3c1a2e3f   web\naa             db\n"


def test_table_header_even_without_rows() -> None:
    assert render_items("table {{.ID}}", [], HEADER) == "CONTAINER ID\n"


def test_plain_template_one_line_per_item_and_escapes() -> None:
    assert render_items("{{.ID}}\\t{{.Names}}", ROWS, HEADER) == "4d0b3c1a2e3f\tweb\naa\tdb\n"


def test_json_shorthand() -> None:
    assert resolve("json", "table x") == "{{json .}}"
    assert resolve("", "table x") == "table x"
    assert resolve("table", "table x") == "table x"
    assert render_items(resolve("json", ""), ROWS[:1], HEADER) == (
        '{"ID":"4d0b3c1a2e3f","Names":"web","Image":"busybox"}\n'
    )

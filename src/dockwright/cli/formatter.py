"""`--format` handling shared by list commands, as docker's formatter package does it.

`table` → the command's default table; `table TEMPLATE` → header row (the template executed on
the header names) plus rows, aligned by the tabwriter; `json` → `{{json .}}` per item; anything
else → the template per item, one line each. `\\t` and `\\n` typed literally become tab/newline.
"""

from __future__ import annotations

from dockwright.cli.context import CommandExit
from dockwright.cli.tables import tabwrite
from dockwright.cli.template import Template
from dockwright.cli.template_parse import TemplateError

TYPE_CHECKING = False  # hot path: typing and collections are imported only for the checker
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

TABLE = "table"


def is_table(fmt: str) -> bool:
    return fmt.strip().startswith(TABLE)


def resolve(fmt: str, default_table: str) -> str:
    """Expand the shorthands: "" and "table" → the default table, "json" → `{{json .}}`."""
    stripped = fmt.strip()
    if stripped in ("", TABLE):
        return default_table
    if stripped == "json":
        return "{{json .}}"
    return fmt


def compile_format(fmt: str) -> tuple[bool, Template]:
    """(is table, template body) with docker's escape replacement; bad templates exit 1."""
    table = is_table(fmt)
    body = fmt.strip()[len(TABLE) :].strip(" ") if table else fmt
    body = body.replace("\\t", "\t").replace("\\n", "\n")
    try:
        return table, Template(body)
    except TemplateError as exc:
        raise CommandExit(1, f"{exc}") from None


def execute(tmpl: Template, item: Any) -> str:
    try:
        return tmpl.execute(item)
    except TemplateError as exc:
        raise CommandExit(1, f"{exc}") from None


def render_items(fmt: str, items: Iterable[Any], header: Mapping[str, str]) -> str:
    """All items in the (already resolved) format; a table gets its header and alignment."""
    table, tmpl = compile_format(fmt)
    rows = [execute(tmpl, item) for item in items]
    if not table:
        return "".join(row + "\n" for row in rows)
    head = execute(tmpl, dict(header))
    return tabwrite("".join(line + "\n" for line in [head, *rows]))


def render_one(fmt: str, obj: Any) -> str:
    """`inspect -f`/`version -f`: one object, one template, a newline after."""
    _, tmpl = compile_format(fmt) if not is_table(fmt) else (False, Template(fmt))
    return execute(tmpl, obj) + "\n"

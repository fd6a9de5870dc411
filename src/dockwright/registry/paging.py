"""The `n`/`last` pagination of tags/list, _catalog and referrers, with RFC 5988 Link (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from dockwright.registry.errors import RegistryError

MAX_PAGE = 10_000


def page_args(query: Mapping[str, str]) -> tuple[int | None, str]:
    """(n, last) from a query; n is None when absent. A bad n is PAGINATION_NUMBER_INVALID."""
    last = query.get("last", "")
    raw = query.get("n")
    if raw is None or raw == "":
        return None, last
    if not raw.isdigit():
        raise RegistryError("SIZE_INVALID", f"invalid page size n={raw!r}", {"n": raw}, status=400)
    return min(int(raw), MAX_PAGE), last


def paginate(items: list[str], n: int | None, last: str) -> tuple[list[str], bool]:
    """The sorted `items` after `last`, at most `n` of them; and whether more remain."""
    rest = [i for i in items if i > last] if last else items
    if n is None:
        return rest, False
    return rest[:n], n > 0 and len(rest) > n


def link_header(path: str, n: int | None, page: list[str]) -> str:
    """The `Link: <path?n=..&last=..>; rel="next"` value for the page after `page`."""
    query = urlencode({"n": n if n is not None else len(page), "last": page[-1]})
    return f'<{path}?{query}>; rel="next"'


__all__ = ["link_header", "page_args", "paginate"]

"""`inspect`, `container inspect`, `image inspect`: raw JSON (indented) or a template per object."""

from __future__ import annotations

from dockwright.cli.context import CommandExit, Context
from dockwright.cli.flags import Parsed
from dockwright.client.errors import APIError

TYPE_CHECKING = False  # typing/collections are for the checker only (CLI start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Getter = Callable[[Context, str, Parsed], Any]


def _container(ctx: Context, name: str, p: Parsed) -> Any:
    return ctx.client.get(
        f"/containers/{name}/json", {"size": True if p.opts.get("size") else None}
    )


def _image(ctx: Context, name: str, p: Parsed) -> Any:
    return ctx.client.get(f"/images/{name}/json")


def _network(ctx: Context, name: str, p: Parsed) -> Any:
    return ctx.client.get(f"/networks/{name}")


def _volume(ctx: Context, name: str, p: Parsed) -> Any:
    return ctx.client.get(f"/volumes/{name}")


GETTERS: dict[str, Getter] = {
    "container": _container,
    "image": _image,
    "network": _network,
    "volume": _volume,
}


def indented(objs: list[Any]) -> str:
    """docker's IndentedInspector: the array, 4-space indent, HTML characters not escaped."""
    import json

    if not objs:
        return "[]\n"
    return json.dumps(objs, indent=4, ensure_ascii=False) + "\n"


def show(ctx: Context, objs: list[Any], fmt: str) -> None:
    from dockwright.cli.formatter import render_one

    if not fmt:
        ctx.stdout.write(indented(objs))
    elif fmt == "json":
        import json

        ctx.stdout.write(json.dumps(objs, ensure_ascii=False) + "\n")
    elif not objs:
        ctx.stdout.write("\n")  # docker's template inspector prints an empty line for nothing
    else:
        for obj in objs:
            ctx.stdout.write(render_one(fmt, obj))


def inspect_all(ctx: Context, p: Parsed, get: Callable[[str], Any]) -> int:
    """Look every name up; print what was found, then the errors (exit 1 if any)."""
    from dockwright.cli.formatter import compile_format

    fmt = p.opts["format"]
    if fmt and fmt != "json":
        compile_format(fmt)  # a bad template fails before any request, as in docker
    found: list[Any] = []
    errors: list[str] = []
    for name in p.args:
        try:
            found.append(get(name))
        except APIError as exc:
            errors.append(str(exc))
        except CommandExit as exc:
            errors.append(exc.message)
    show(ctx, found, fmt)
    if errors:
        raise CommandExit(1, "\n".join(errors))
    return 0


def container_inspect(ctx: Context, p: Parsed) -> int:
    return inspect_all(ctx, p, lambda n: _container(ctx, n, p))


def image_inspect(ctx: Context, p: Parsed) -> int:
    return inspect_all(ctx, p, lambda n: _image(ctx, n, p))


def inspect(ctx: Context, p: Parsed) -> int:
    kind = p.opts["type"]
    if kind and kind not in GETTERS:
        raise CommandExit(1, f'"{kind}" is not a valid value for --type')
    kinds = [kind] if kind else list(GETTERS)

    def get_any(name: str) -> Any:
        for k in kinds:
            try:
                return GETTERS[k](ctx, name, p)
            except APIError as exc:
                if exc.status not in (404, 400) or (kind and exc.status != 404):
                    raise
        what = kind if kind else "object"
        raise CommandExit(1, f"Error: No such {what}: {name}")

    return inspect_all(ctx, p, get_any)

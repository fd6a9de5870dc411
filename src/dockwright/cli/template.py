"""Execute Go-template formats (`--format`, `inspect -f`) over JSON-like data or objects.

Values print the way Go prints them: `true`, `<nil>`, `[a b]`, `map[k:v]`, `<no value>` for a
missing map key. Functions: Go's builtins (and, or, not, len, index, slice, eq, ne, lt, le, gt,
ge, print, printf, println) and docker's (json, join, split, lower, upper, title, pad, truncate).
"""

from __future__ import annotations

from dockwright.cli.template_parse import (
    Action,
    Branch,
    Chain,
    Command,
    Field,
    Ident,
    Literal,
    Pipeline,
    TemplateError,
    Text,
    Variable,
    parse,
)

TYPE_CHECKING = False  # executed for every `--format`: no typing/json imports at run time
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


class _Missing:
    """A map key that is not there (Go prints `<no value>`)."""

    def __repr__(self) -> str:
        return "<no value>"


MISSING = _Missing()


# -- printing --------------------------------------------------------------------------------


def go_str(value: Any) -> str:
    """Go's `%v` for the values JSON and our contexts produce."""
    if value is MISSING:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "map[" + " ".join(f"{go_str(k)}:{go_str(v)}" for k, v in items) + "]"
    return str(value)


def _go_float(value: float) -> str:
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mant, exp = text.split("e")
        sign = "-" if exp.startswith("-") else "+"
        text = f"{mant}e{sign}{abs(int(exp)):02d}"
    return text


# Fields that are Go maps in docker's types: json.Marshal writes their keys sorted, while
# struct fields keep their declaration order (which the daemon's JSON already follows).
MAP_FIELDS = frozenset(
    {
        "Labels",
        "Attributes",
        "Options",
        "Sysctls",
        "Annotations",
        "ExposedPorts",
        "Volumes",
        "Ports",
        "PortBindings",
        "Networks",
        "EndpointsConfig",
        "Tmpfs",
        "StorageOpt",
        "DriverOpts",
        "Details",
        "Runtimes",
        "DriverConfig",
        "Config",
    }
)


def _go_order(value: Any, is_map: bool = False) -> Any:
    if isinstance(value, dict):
        items = sorted(value.items()) if is_map else value.items()
        return {
            k: _go_order(v, k in MAP_FIELDS and isinstance(v, dict) and _map_like(k, v))
            for k, v in items
        }
    if isinstance(value, list):
        return [_go_order(v) for v in value]
    return value


def _map_like(key: str, value: dict[str, Any]) -> bool:
    """`Config` is a map only inside LogConfig (string values); elsewhere it is a struct."""
    return key != "Config" or all(isinstance(v, str) for v in value.values())


def to_json(value: Any) -> str:
    """docker's `json` function: Go's json.Marshal (map keys sorted, HTML characters escaped)."""
    import json

    if value is MISSING:
        value = None
    value = _go_order(value)
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _json_default(obj: Any) -> Any:
    to_dict = getattr(obj, "to_json", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"cannot encode {type(obj).__name__}")


def truth(value: Any) -> bool:
    if value is MISSING or value is None:
        return False
    if isinstance(value, bool | int | float | str | list | tuple | dict):
        return bool(value)
    return True


# -- functions -------------------------------------------------------------------------------


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if item is None or item is MISSING:
            raise TemplateError("error calling index: index of untyped nil")
        if isinstance(item, dict):
            item = item.get(key, MISSING)
        else:
            try:
                item = item[int(key)]
            except (IndexError, ValueError, TypeError):
                raise TemplateError(f"error calling index: index out of range: {key}") from None
    return item


def _slice(item: Any, *idx: int) -> Any:
    return item[idx[0] : idx[1]] if len(idx) > 1 else item[idx[0] :] if idx else item


def _printf(fmt: str, *args: Any) -> str:
    from dockwright.cli.gofmt import sprintf

    return sprintf(fmt, args, go_str)


def _cmp(op: str) -> Callable[..., bool]:
    def compare(a: Any, b: Any) -> bool:
        try:
            return bool({"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op])
        except TypeError:
            raise TemplateError(f"error calling {op}: incompatible types for comparison") from None

    return compare


def _pad(s: Any, left: int, right: int) -> str:
    return " " * left + go_str(s) + " " * right


def _truncate(s: Any, n: int) -> str:
    text = go_str(s)
    return text[:n] if len(text) > n else text


def _title(s: Any) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in go_str(s).split(" "))


FUNCS: dict[str, Callable[..., Any]] = {
    "json": to_json,
    "join": lambda items, sep: sep.join(go_str(i) for i in (items or [])),
    "split": lambda s, sep: go_str(s).split(sep),
    "lower": lambda s: go_str(s).lower(),
    "upper": lambda s: go_str(s).upper(),
    "title": _title,
    "pad": _pad,
    "truncate": _truncate,
    "len": lambda v: len(v) if v is not None and v is not MISSING else 0,
    "index": _index,
    "slice": _slice,
    "not": lambda v: not truth(v),
    "and": lambda *a: next((x for x in a if not truth(x)), a[-1]),  # evaluated in _call
    "or": lambda *a: next((x for x in a if truth(x)), a[-1]),
    "print": lambda *a: "".join(go_str(x) for x in a),
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "printf": _printf,
    "eq": lambda a, *bs: any(a == b for b in bs),
    "ne": lambda a, b: a != b,
    "lt": _cmp("lt"),
    "le": _cmp("le"),
    "gt": _cmp("gt"),
    "ge": _cmp("ge"),
}


# -- execution -------------------------------------------------------------------------------


class _Scope:
    def __init__(self, dot: Any) -> None:
        self.vars: list[tuple[str, Any]] = [("$", dot)]

    def get(self, name: str) -> Any:
        for var, value in reversed(self.vars):
            if var == name:
                return value
        raise TemplateError(f'template: :1: undefined variable "{name}"')

    def set(self, name: str, value: Any, assign: bool) -> None:
        if assign:
            for i in range(len(self.vars) - 1, -1, -1):
                if self.vars[i][0] == name:
                    self.vars[i] = (name, value)
                    return
        self.vars.append((name, value))


# Go field names whose JSON names differ (`ID` is tagged "Id", `APIVersion` "ApiVersion"):
# docker evaluates templates on typed structs, so `{{.ID}}` and `{{.Server.APIVersion}}` work.
GO_FIELD_ALIASES = {"ID": "Id", "APIVersion": "ApiVersion", "MinAPIVersion": "MinAPIVersion"}


def field_of(item: Any, name: str, args: list[Any] | None = None) -> Any:
    """`.Name` on a mapping (missing → MISSING) or an object (attribute or method)."""
    if item is None or item is MISSING:
        raise TemplateError(f"template: :1: nil pointer evaluating interface {{}}.{name}")
    if isinstance(item, dict):
        value = item.get(name, MISSING)
        if value is MISSING and name in GO_FIELD_ALIASES:
            value = item.get(GO_FIELD_ALIASES[name], MISSING)
        return value
    attr = getattr(item, name, MISSING)
    if attr is MISSING or name.startswith("_"):
        raise TemplateError(
            f"template: :1: can't evaluate field {name} in type {type(item).__name__}"
        )
    return attr(*(args or [])) if callable(attr) else attr


def _fields(item: Any, names: list[str], args: list[Any] | None = None) -> Any:
    for i, name in enumerate(names):
        item = field_of(item, name, args if i == len(names) - 1 else None)
    return item


class Template:
    """A parsed template; `execute(data)` returns the text."""

    def __init__(self, src: str, funcs: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.src = src
        self.funcs = {**FUNCS, **(funcs or {})}
        self.nodes = parse(src)
        self._check_funcs(self.nodes)

    def _check_funcs(self, nodes: list[Any]) -> None:
        for node in nodes:
            if isinstance(node, Action | Branch):
                self._check_pipe(node.pipe)
            if isinstance(node, Branch):
                self._check_funcs(node.body)
                self._check_funcs(node.orelse)

    def _check_pipe(self, pipe: Pipeline) -> None:
        for cmd in pipe.commands:
            for arg in cmd.args:
                if isinstance(arg, Ident) and arg.name not in self.funcs:
                    raise TemplateError(f'template: :1: function "{arg.name}" not defined')
                if isinstance(arg, Pipeline):
                    self._check_pipe(arg)

    def execute(self, data: Any) -> str:
        out: list[str] = []
        self._run(self.nodes, data, _Scope(data), out)
        return "".join(out)

    def _run(self, nodes: list[Any], dot: Any, scope: _Scope, out: list[str]) -> None:
        for node in nodes:
            if isinstance(node, Text):
                out.append(node.text)
            elif isinstance(node, Action):
                value = self._pipe(node.pipe, dot, scope)
                if not node.pipe.decl:
                    out.append(go_str(value))
            else:
                self._branch(node, dot, scope, out)

    def _branch(self, node: Branch, dot: Any, scope: _Scope, out: list[str]) -> None:
        mark = len(scope.vars)
        if node.kind == "range":
            self._range(node, dot, scope, out)
        else:
            value = self._pipe(node.pipe, dot, scope, declare=node.kind != "range")
            if truth(value):
                self._run(node.body, value if node.kind == "with" else dot, scope, out)
            else:
                self._run(node.orelse, dot, scope, out)
        del scope.vars[mark:]

    def _range(self, node: Branch, dot: Any, scope: _Scope, out: list[str]) -> None:
        value = self._pipe(Pipeline(node.pipe.commands), dot, scope)
        if value is None or value is MISSING:
            value = []
        if isinstance(value, dict):
            items = [(k, value[k]) for k in sorted(value)]
        elif isinstance(value, int) and not isinstance(value, bool):
            items = list(enumerate(range(value)))
        else:
            items = list(enumerate(value))
        if not items:
            self._run(node.orelse, dot, scope, out)
            return
        for key, elem in items:
            mark = len(scope.vars)
            decl = node.pipe.decl
            if len(decl) == 1:
                scope.set(decl[0], elem, False)
            elif len(decl) == 2:
                scope.set(decl[0], key, False)
                scope.set(decl[1], elem, False)
            self._run(node.body, elem, scope, out)
            del scope.vars[mark:]

    def _pipe(self, pipe: Pipeline, dot: Any, scope: _Scope, declare: bool = True) -> Any:
        value: Any = MISSING
        first = True
        for cmd in pipe.commands:
            value = self._command(cmd, dot, scope, None if first else value, not first)
            first = False
        if declare:
            for name in pipe.decl:
                scope.set(name, value, pipe.assign)
        return value

    def _command(self, cmd: Command, dot: Any, scope: _Scope, piped: Any, has_piped: bool) -> Any:
        head, rest = cmd.args[0], cmd.args[1:]
        extra = [piped] if has_piped else []
        if isinstance(head, Ident):
            args = [self._arg(a, dot, scope) for a in rest] + extra
            return self._call(head.name, args)
        if isinstance(head, Field) and (rest or has_piped) and head.names:
            args = [self._arg(a, dot, scope) for a in rest] + extra
            return _fields(dot, head.names, args)
        if rest or has_piped:
            raise TemplateError(f"template: :1: can't give argument to non-function {cmd.args[0]}")
        return self._arg(head, dot, scope)

    def _call(self, name: str, args: list[Any]) -> Any:
        try:
            return self.funcs[name](*args)
        except TemplateError:
            raise
        except (TypeError, ValueError, AttributeError) as exc:
            raise TemplateError(f"template: :1: error calling {name}: {exc}") from None

    def _arg(self, node: Any, dot: Any, scope: _Scope) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Field):
            return _fields(dot, node.names)
        if isinstance(node, Variable):
            return _fields(scope.get(node.name), node.names)
        if isinstance(node, Pipeline):
            return self._pipe(node, dot, scope)
        if isinstance(node, Chain):
            return _fields(self._pipe(node.node, dot, scope), node.names)
        if isinstance(node, Ident):
            return self._call(node.name, [])
        raise TemplateError(f"template: :1: unexpected {node!r}")


def render(src: str, data: Any) -> str:
    return Template(src).execute(data)

"""Parse Go `text/template` source (the subset docker users write) into a small tree.

Supported: text, `{{pipeline}}`, trim markers `{{-`/`-}}`, comments, `if`/`else if`/`else`,
`range` (with `$i, $e :=`), `with`, `end`, variables (`$x := ...`, `$`), fields (`.A.B`),
string/raw/number/bool/nil literals, function calls, pipes `|` and parentheses.
"""

from __future__ import annotations

TYPE_CHECKING = False  # parsed on every `--format`: no typing/dataclasses imports at run time
if TYPE_CHECKING:
    from typing import Any


class TemplateError(Exception):
    """A template that does not parse or cannot be executed; message is Go-like."""


# -- tree ------------------------------------------------------------------------------------


class Node:
    """Base of the parse tree; nodes compare by their fields (handy in tests)."""

    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__
        )

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Field(Node):
    """`.A.B` → names ["A", "B"]; `.` → []."""

    __slots__ = ("names",)

    def __init__(self, names: list[str]) -> None:
        self.names = names


class Variable(Node):
    """`$` or `$x`, optionally followed by fields."""

    __slots__ = ("name", "names")

    def __init__(self, name: str, names: list[str] | None = None) -> None:
        self.name = name
        self.names = names or []


class Literal(Node):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Ident(Node):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Chain(Node):
    """A parenthesized pipeline followed by `.Field` accesses."""

    __slots__ = ("node", "names")

    def __init__(self, node: Any, names: list[str]) -> None:
        self.node = node
        self.names = names


class Command(Node):
    __slots__ = ("args",)

    def __init__(self, args: list[Any]) -> None:
        self.args = args


class Pipeline(Node):
    """Commands joined by `|`; `decl` names variables set by `:=` (or `=` when `assign`)."""

    __slots__ = ("commands", "decl", "assign")

    def __init__(
        self, commands: list[Command], decl: list[str] | None = None, assign: bool = False
    ):
        self.commands = commands
        self.decl = decl or []
        self.assign = assign


class Text(Node):
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class Action(Node):
    __slots__ = ("pipe",)

    def __init__(self, pipe: Pipeline) -> None:
        self.pipe = pipe


class Branch(Node):
    """`if`, `range` or `with`, with its body and else part."""

    __slots__ = ("kind", "pipe", "body", "orelse")

    def __init__(self, kind: str, pipe: Pipeline, body: list[Any], orelse: list[Any]) -> None:
        self.kind, self.pipe, self.body, self.orelse = kind, pipe, body, orelse


# -- lexing ----------------------------------------------------------------------------------


def split_actions(src: str) -> list[tuple[str, str]]:
    """[("text", s) | ("action", inner)] with trim markers applied to neighbouring text."""
    parts: list[tuple[str, str]] = []
    pos = 0
    while (start := src.find("{{", pos)) >= 0:
        text = src[pos:start]
        inner_start = start + 2
        if src.startswith("- ", inner_start) or src.startswith("-\t", inner_start):
            text = text.rstrip(" \t\r\n")
            inner_start += 1
        end = _action_end(src, inner_start)
        inner, after = src[inner_start:end], end + 2
        if inner.endswith(" -") or inner.endswith("\t-"):
            inner = inner[:-1]
            rest = src[after:]
            after += len(rest) - len(rest.lstrip(" \t\r\n"))
        parts.append(("text", text))
        parts.append(("action", inner.strip()))
        pos = after
    parts.append(("text", src[pos:]))
    return [p for p in parts if p != ("text", "")]


def _action_end(src: str, i: int) -> int:
    quote = ""
    while i < len(src):
        ch = src[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"`'":
            quote = ch
        elif src.startswith("}}", i):
            return i
        i += 1
    if quote:
        raise TemplateError("template: :1: unterminated quoted string")
    raise TemplateError("template: :1: unclosed action")


_PUNCT = ("(", ")", "|", ",")


def tokenize(action: str) -> list[str]:
    """Split an action's inside into tokens; string literals stay quoted."""
    tokens: list[str] = []
    i = 0
    while i < len(action):
        ch = action[i]
        if ch.isspace():
            i += 1
        elif ch in _PUNCT:
            tokens.append(ch)
            i += 1
        elif action.startswith(":=", i):
            tokens.append(":=")
            i += 2
        elif ch == "=":
            tokens.append("=")
            i += 1
        elif ch in "\"`'":
            j = _string_end(action, i)
            tokens.append(action[i:j])
            i = j
        else:
            j = i
            while j < len(action) and not action[j].isspace() and action[j] not in "()|,=:":
                j += 1
            if j == i:
                raise TemplateError(f"template: :1: unexpected {action[i]!r} in command")
            tokens.append(action[i:j])
            i = j
    return tokens


def _string_end(s: str, i: int) -> int:
    quote, j = s[i], i + 1
    while j < len(s):
        if s[j] == "\\" and quote != "`":
            j += 2
            continue
        if s[j] == quote:
            return j + 1
        j += 1
    raise TemplateError("template: :1: unterminated quoted string")


def unquote(tok: str) -> str:
    if tok[0] == "`":
        return tok[1:-1]
    body = tok[1:-1]
    out, i = [], 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


# -- parsing ---------------------------------------------------------------------------------


class _Tokens:
    def __init__(self, tokens: list[str]) -> None:
        self.toks, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str:
        tok = self.toks[self.i]
        self.i += 1
        return tok


def _split_names(tok: str) -> list[str]:
    return [n for n in tok.split(".") if n]


def parse_operand(t: _Tokens) -> Any:
    tok = t.take()
    if tok == "(":
        inner = parse_pipeline(t, stop=")")
        if t.peek() != ")":
            raise TemplateError("template: :1: unclosed left paren")
        t.take()
        if (nxt := t.peek()) is not None and nxt.startswith(".") and nxt != ".":
            return Chain(inner, _split_names(t.take()))
        return inner
    if tok[0] in '"`':
        return Literal(unquote(tok))
    if tok[0] == "'":
        return Literal(ord(unquote(tok)))
    if tok.startswith("."):
        return Field(_split_names(tok))
    if tok.startswith("$"):
        name, _, rest = tok.partition(".")
        return Variable(name, _split_names(rest))
    if tok in ("true", "false"):
        return Literal(tok == "true")
    if tok == "nil":
        return Literal(None)
    if tok[0].isdigit() or (tok[0] in "+-" and len(tok) > 1):
        return Literal(_number(tok))
    return Ident(tok)


def _number(tok: str) -> int | float:
    try:
        return int(tok, 0)
    except ValueError:
        try:
            return float(tok)
        except ValueError:
            raise TemplateError(f"template: :1: bad number syntax: {tok!r}") from None


def parse_pipeline(t: _Tokens, stop: str | None = None) -> Pipeline:
    pipe = Pipeline([])
    if (first := t.peek()) and first.startswith("$") and "." not in first:
        save = t.i
        names = [t.take()]
        while t.peek() == ",":
            t.take()
            names.append(t.take())
        if t.peek() in (":=", "="):
            pipe.assign = t.take() == "="
            pipe.decl = names
        else:
            t.i = save
    args: list[Any] = []
    while (tok := t.peek()) is not None and tok != stop:
        if tok == "|":
            t.take()
            if not args:
                raise TemplateError("template: :1: missing value for command")
            pipe.commands.append(Command(args))
            args = []
            continue
        args.append(parse_operand(t))
    if not args:
        raise TemplateError("template: :1: missing value for command")
    pipe.commands.append(Command(args))
    return pipe


def _parse_action_pipe(inner: str) -> Pipeline:
    t = _Tokens(tokenize(inner))
    pipe = parse_pipeline(t)
    if t.peek() is not None:
        raise TemplateError(f"template: :1: unexpected {t.peek()!r} in operand")
    return pipe


_BLOCKS = ("if", "range", "with")


def parse(src: str) -> list[Any]:
    """The template's node list; raises TemplateError like Go's parser."""
    parts = split_actions(src)
    nodes, pos, end = _parse_list(parts, 0)
    if end is not None:
        raise TemplateError(f"template: :1: unexpected {{{{{end}}}}}")
    return nodes


def _parse_list(parts: list[tuple[str, str]], pos: int) -> tuple[list[Any], int, str | None]:
    """Nodes until `{{end}}`/`{{else ...}}` (returned as the third item) or the end."""
    nodes: list[Any] = []
    while pos < len(parts):
        kind, value = parts[pos]
        pos += 1
        if kind == "text":
            nodes.append(Text(value))
            continue
        if value.startswith("/*"):
            continue
        word = value.split(None, 1)[0] if value else ""
        if word in ("end", "else"):
            return nodes, pos, value
        if word in _BLOCKS:
            node, pos = _parse_branch(parts, pos, word, value[len(word) :])
            nodes.append(node)
            continue
        if not value:
            raise TemplateError("template: :1: missing value for command")
        nodes.append(Action(_parse_action_pipe(value)))
    return nodes, pos, None


def _parse_branch(
    parts: list[tuple[str, str]], pos: int, kind: str, rest: str
) -> tuple[Branch, int]:
    pipe = _parse_action_pipe(rest)
    body, pos, term = _parse_list(parts, pos)
    orelse: list[Any] = []
    if term is None:
        raise TemplateError(f"template: :1: unexpected EOF in {kind}")
    if term != "end":
        chained = term[len("else") :].strip()
        if chained.split(None, 1)[0:1] in (["if"], ["with"]):
            word = chained.split(None, 1)[0]
            node, pos = _parse_branch(parts, pos, word, chained[len(word) :])
            return Branch(kind, pipe, body, [node]), pos
        orelse, pos, term = _parse_list(parts, pos)
        if term != "end":
            raise TemplateError(f"template: :1: expected end; found {term}")
    return Branch(kind, pipe, body, orelse), pos

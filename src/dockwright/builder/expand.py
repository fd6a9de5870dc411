"""Docker's word processing for Dockerfile arguments: quotes, escapes and `$` variables. Pure.

Rules (moby/buildkit `shell.Lex`): single quotes are literal; double quotes keep spaces and still
expand variables; the escape character quotes the next character (outside single quotes);
`$name`, `${name}`, `${name:-word}` (unset or empty → word), `${name-word}` (unset → word),
`${name:+word}` (set and non-empty → word), `${name+word}`, `${name:?msg}` / `${name?msg}` (error).
Unknown variables expand to "". Which instructions expand at all is `EXPANDING`.
"""

from __future__ import annotations

from collections.abc import Mapping

from dockwright.errors import InvalidParameter

EXPANDING = frozenset(
    {"add", "copy", "env", "expose", "from", "label", "stopsignal", "user", "volume", "workdir", "arg",
     "onbuild"}
)  # fmt: skip


def expand_word(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """One word: quotes removed, variables expanded, whitespace kept."""
    return "".join(_Lexer(text, env, escape, split=False).words())


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Split on unquoted whitespace, then expand each word (as ENV/LABEL/EXPOSE/COPY do)."""
    return _Lexer(text, env, escape, split=True).words()


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str], escape: str, split: bool) -> None:
        self.text, self.env, self.escape, self.split = text, env, escape, split
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        ch = self.peek()
        self.pos += 1
        return ch

    def words(self) -> list[str]:
        words: list[str] = []
        current: list[str] = []
        started = False
        while self.pos < len(self.text):
            ch = self.peek()
            if self.split and ch in " \t\n":
                self.take()
                if started:
                    words.append("".join(current))
                    current, started = [], False
                continue
            started = True
            current.append(self._unit())
        if started or not self.split:
            words.append("".join(current))
        return words

    def _unit(self) -> str:
        ch = self.take()
        if ch == "'":
            return self._until("'")
        if ch == '"':
            return self._double()
        if ch == self.escape:
            return self.take()
        if ch == "$":
            return self._variable()
        return ch

    def _until(self, end: str) -> str:
        start = self.pos
        close = self.text.find(end, start)
        if close < 0:
            raise InvalidParameter(
                f"unexpected end of statement while looking for matching {end} in {self.text!r}"
            )
        self.pos = close + 1
        return self.text[start:close]

    def _double(self) -> str:
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise InvalidParameter(
                    f'unexpected end of statement while looking for matching " in {self.text!r}'
                )
            ch = self.take()
            if ch == '"':
                return "".join(out)
            if ch == self.escape and self.peek() in ('"', "$", self.escape):
                out.append(self.take())
            elif ch == "$":
                out.append(self._variable())
            else:
                out.append(ch)

    def _name(self) -> str:
        start = self.pos
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            self.pos += 1
        return self.text[start : self.pos]

    def _variable(self) -> str:
        if self.peek() == "{":
            self.take()
            return self._braced()
        name = self._name()
        return self.env.get(name, "") if name else "$"

    def _braced(self) -> str:
        name = self._name()
        if not name:
            raise InvalidParameter(f"missing variable name in {self.text!r}")
        op = self.take()
        if op == "}":
            return self.env.get(name, "")
        if op == ":":
            op += self.take()
        if op not in (":-", "-", ":+", "+", ":?", "?"):
            raise InvalidParameter(f"unsupported modifier ({op}) in substitution {self.text!r}")
        word = self._word_in_braces()
        return _modify(name, self.env, op, word)

    def _word_in_braces(self) -> str:
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise InvalidParameter(f"missing '}}' in {self.text!r}")
            if self.peek() == "}":
                self.take()
                return "".join(out)
            out.append(self._unit())


def _modify(name: str, env: Mapping[str, str], op: str, word: str) -> str:
    value = env.get(name)
    present = value is not None and (value != "" or ":" not in op)
    if op in (":-", "-"):
        return value if present and value is not None else word
    if op in (":+", "+"):
        return word if present else ""
    if not present:
        raise InvalidParameter(f"{name}: {word or 'is not allowed to be unset'}")
    return value or ""

"""Go's `fmt.Sprintf` for the verbs templates use: %v %s %d %q %x %X %f %e %g %t %c %o %b %%."""

from __future__ import annotations

TYPE_CHECKING = False  # go_quote is on the `ps` hot path: no typing/json imports at run time
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

_FLAGS = "+-# 0"
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def go_quote(s: str) -> str:
    """`strconv.Quote`: a double-quoted Go string literal (printable runes kept as they are)."""
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _spec(fmt: str, i: int) -> tuple[str, str, str, str, int]:
    """Parse `%[flags][width][.prec]verb` starting after the `%`."""
    j = i
    while j < len(fmt) and fmt[j] in _FLAGS:
        j += 1
    flags = fmt[i:j]
    k = j
    while k < len(fmt) and fmt[k].isdigit():
        k += 1
    width = fmt[j:k]
    prec = ""
    if k < len(fmt) and fmt[k] == ".":
        m = k + 1
        while m < len(fmt) and fmt[m].isdigit():
            m += 1
        prec, k = fmt[k:m], m
    verb = fmt[k] if k < len(fmt) else ""
    return flags, width, prec, verb, k + 1


def _pad(text: str, flags: str, width: str) -> str:
    if not width:
        return text
    w = int(width)
    if "-" in flags:
        return text.ljust(w)
    if "0" in flags and text.lstrip("-+").replace(".", "", 1).isdigit():
        sign = text[0] if text[:1] in "+-" else ""
        return sign + text[len(sign) :].rjust(w - len(sign), "0")
    return text.rjust(w)


def _number(verb: str, value: Any, flags: str, prec: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    plus = "+" if "+" in flags else ""
    if verb in "dxXob" and isinstance(value, int):
        return format(value, plus + {"d": "d", "x": "x", "X": "X", "o": "o", "b": "b"}[verb])
    if verb in "feEgG":
        p = prec if prec else (".6" if verb in "feE" else "")
        return format(float(value), plus + p + verb)
    return None


def format_one(verb: str, value: Any, flags: str, prec: str, vstr: Callable[[Any], str]) -> str:
    """One formatted operand (before width padding); mismatches print like Go's `%!d(...)`."""
    if verb in ("v", "s"):
        text = vstr(value)
        return text[: int(prec[1:])] if prec and verb == "s" else text
    if verb == "q":
        return go_quote(vstr(value)) if not isinstance(value, int) else f"'{chr(value)}'"
    if verb == "t" and isinstance(value, bool):
        return "true" if value else "false"
    if verb == "c" and isinstance(value, int):
        return chr(value)
    if verb in "xX" and isinstance(value, str):
        return value.encode().hex() if verb == "x" else value.encode().hex().upper()
    number = _number(verb, value, flags, prec)
    if number is not None:
        return number
    return f"%!{verb}({type(value).__name__}={vstr(value)})"


def sprintf(fmt: str, args: Sequence[Any], vstr: Callable[[Any], str] = str) -> str:
    """Format like Go; extra args become `%!(EXTRA ...)`, missing ones `%!v(MISSING)`."""
    out: list[str] = []
    i, n = 0, 0
    while i < len(fmt):
        pct = fmt.find("%", i)
        if pct < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:pct])
        flags, width, prec, verb, i = _spec(fmt, pct + 1)
        if verb == "%":
            out.append("%")
            continue
        if n >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_pad(format_one(verb, args[n], flags, prec, vstr), flags, width))
        n += 1
    if n < len(args):
        extra = ", ".join(f"{type(a).__name__}={vstr(a)}" for a in args[n:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)

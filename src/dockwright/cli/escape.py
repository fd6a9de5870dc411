"""Detach keys (`ctrl-p,ctrl-q`): parse docker's notation and spot the sequence in stdin. Pure."""

from __future__ import annotations

from dockwright.errors import InvalidParameter

DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"
_CTRL_SPECIAL = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def parse_detach_keys(spec: str) -> bytes:
    """`ctrl-p,ctrl-q` → b"\\x10\\x11"; single characters stand for themselves."""
    out = bytearray()
    for key in spec.split(","):
        low = key.lower()
        if len(key) == 1:
            out.append(ord(key))
        elif low.startswith("ctrl-") and len(key) == 6:
            ch = low[5]
            if "a" <= ch <= "z":
                out.append(ord(ch) - ord("a") + 1)
            elif ch in _CTRL_SPECIAL:
                out.append(_CTRL_SPECIAL[ch])
            else:
                raise InvalidParameter(f"unknown character: '{key}'")
        else:
            raise InvalidParameter(f"unknown character: '{key}'")
    return bytes(out)


class EscapeProxy:
    """Feed stdin bytes; get back what to forward and whether the sequence was typed.

    Bytes that could start the sequence are held back until it is complete (detach) or
    broken (then they are forwarded), like docker's term.EscapeProxy.
    """

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = 0

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        out = bytearray()
        for b in data:
            if self.keys and b == self.keys[self.held]:
                self.held += 1
                if self.held == len(self.keys):
                    return bytes(out), True
                continue
            if self.held:
                out += self.keys[: self.held]
                self.held = 0
                if self.keys and b == self.keys[0]:
                    self.held = 1
                    continue
            out.append(b)
        return bytes(out), False

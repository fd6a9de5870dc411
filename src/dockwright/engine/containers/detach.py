"""Detach-key detection on an attach client's stdin (Docker's `ctrl-p,ctrl-q` default)."""

from __future__ import annotations

from dockwright.errors import InvalidParameter

DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"


def parse_detach_keys(spec: str) -> bytes:
    """`ctrl-p,ctrl-q` → b"\\x10\\x11"; `a,ctrl-@` etc. as Docker's term.ToBytes."""
    out = bytearray()
    for key in spec.split(","):
        key = key.strip()
        if len(key) == 1:
            out.append(ord(key))
        elif key.startswith("ctrl-") and len(key) == 6:
            ch = key[5].lower()
            if ch == "@":
                out.append(0)
            elif "a" <= ch <= "z":
                out.append(ord(ch) - ord("a") + 1)
            elif ch in "[\\]^_":
                out.append(ord(ch) - ord("[") + 27)
            else:
                raise InvalidParameter(f"invalid detach keys ({spec}) provided")
        else:
            raise InvalidParameter(f"invalid detach keys ({spec}) provided")
    return bytes(out)


class DetachScanner:
    """Feeds stdin chunks; returns what to forward, holding back a possible key prefix."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = b""
        self.detached = False

    def feed(self, data: bytes) -> bytes:
        if not self.keys:
            return data
        out = bytearray()
        for byte in data:
            candidate = self.held + bytes([byte])
            if self.keys.startswith(candidate):
                self.held = candidate
                if candidate == self.keys:
                    self.detached = True
                    self.held = b""
                    return bytes(out)
            else:
                out += candidate
                self.held = b""
        return bytes(out)

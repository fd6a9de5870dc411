"""The JSON ("exec") form of a Dockerfile argument, as the builder and `commit --change` read it.
Pure."""

from __future__ import annotations

import json


def exec_form(text: str) -> tuple[str, ...] | None:
    """`["a", "b"]` as ("a", "b"); None for the shell form (anything but a JSON array of
    strings), as Docker's parser falls back to it."""
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None

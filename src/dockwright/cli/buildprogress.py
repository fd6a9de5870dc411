"""`dockwright build --progress=plain`: the daemon's build stream printed BuildKit-style.

The legacy stream (`Step i/n : …`, ` ---> …`) is for the docker CLI. Next to it the daemon sends
step events as aux messages (`{"aux": {"dockwright.step": {"step", "event", …}}}`): `start`
(with the step's name, `[stage i/n] INSTRUCTION`), `cached` or `miss` (with the reason) and
`done` (with the seconds it took). This renderer prints, per step:

    #3 [build 2/3] COPY app.py /app/
    #3 cache miss: COPY app.py /app/: file changed: app.py
    #3 <each line of the step's output>
    #3 DONE 0.3s

and drops the legacy lines. A base image's ONBUILD triggers are vertices of their own (their
events carry `trigger`): they take the numbers after their FROM's, and the later steps' numbers
move up by as many, as BuildKit numbers vertices in the order they appear. `PlainProgress` is pure (it writes through a callable); `show_plain`
drives it from the stream and raises CommandExit on the daemon's error, as `show` does.
"""

from __future__ import annotations

import re

from dockwright.cli.context import CommandExit, Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

STEP_AUX = "dockwright.step"
_LEGACY = re.compile(
    r"^( ---> |Step \d+/\d+ : |Successfully built |Removing intermediate container "
    r"|# Executing \d+ build triggers?$)"
)
_TAGGED = "Successfully tagged "


class PlainProgress:
    """Turns stream messages into `#N` lines; `write` gets whole lines."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.step = 0  # the step whose output is being shown (0: none yet)
        self.last = 0  # the highest step number seen
        self.partial = ""  # output of the current step not yet ended by a newline
        self.names: dict[int, str] = {}  # step -> instruction shown in its header
        self.tags: list[str] = []
        self.cached: set[int] = set()  # steps already closed by their CACHED line
        self.vertices: dict[tuple[int, int], int] = {}  # (step, trigger) -> number shown
        self.shift = 0  # trigger vertices shown so far

    def feed(self, msg: dict[str, Any]) -> None:
        aux = msg.get("aux")
        if isinstance(aux, dict) and isinstance(aux.get(STEP_AUX), dict):
            self._event(aux[STEP_AUX])
        elif isinstance(msg.get("stream"), str):
            self._stream(msg["stream"])
        elif msg.get("status"):
            ident = f"{msg['id']}: " if msg.get("id") else ""
            self._line(f"{ident}{msg['status']}")

    def _vertex(self, ev: dict[str, Any], kind: str) -> int:
        """The number shown for the event's step (a trigger's start takes the next one)."""
        key = (int(ev.get("step") or 0), int(ev.get("trigger") or 0))
        if kind == "start":
            self.shift += 1 if key[1] else 0
            self.vertices[key] = key[0] + self.shift
        return self.vertices.get(key, key[0] + self.shift)

    def _event(self, ev: dict[str, Any]) -> None:
        kind = str(ev.get("event") or "")
        step = self._vertex(ev, kind)
        if kind == "start":
            self._flush()
            self.step, self.last = step, max(self.last, step)
            self.names[step] = _instruction(str(ev.get("name") or ""))
            self.write(f"#{step} {ev.get('name') or ''}\n")
        elif kind == "cached":
            self.cached.add(step)
            via = " (from --cache-from image)" if ev.get("source") == "cache-from" else ""
            self.write(f"#{step} CACHED{via}\n")
        elif kind == "miss":
            self.write(f"#{step} cache miss: {self.names.get(step, '')}: {ev.get('reason')}\n")
        elif kind == "done":
            self._flush()
            if step in self.cached:  # BuildKit ends a cached step with its CACHED line
                self.write("\n")
            else:
                self.write(f"#{step} DONE {float(ev.get('seconds') or 0):.1f}s\n\n")

    def _stream(self, text: str) -> None:
        if text.startswith(_TAGGED):
            self.tags.append(text[len(_TAGGED) :].strip())
        elif not _LEGACY.match(text):
            lines = (self.partial + text).split("\n")
            self.partial = lines.pop()
            for line in lines:
                self._line(line)

    def _line(self, line: str) -> None:
        self.write(f"#{self.step} {line}\n" if self.step else line + "\n")

    def _flush(self) -> None:
        if self.partial:
            self._line(self.partial)
            self.partial = ""

    def error(self, text: str) -> None:
        self._flush()
        self.write(f"#{self.step} ERROR: {text}\n" if self.step else f"ERROR: {text}\n")

    def finish(self, image_id: str) -> None:
        """BuildKit's closing vertex: the image written and its names."""
        self._flush()
        n = self.last + 1
        self.write(f"#{n} exporting to image\n#{n} writing image {image_id} done\n")
        for tag in self.tags:
            self.write(f"#{n} naming to {_qualified(tag)} done\n")
        self.write(f"#{n} DONE 0.0s\n")


def _instruction(name: str) -> str:
    """`[build 2/3] COPY a b` -> `COPY a b`."""
    return name.split("] ", 1)[1] if name.startswith("[") and "] " in name else name


def _qualified(tag: str) -> str:
    """BuildKit names images fully: docker.io/library/x:1."""
    first = tag.split("/", 1)[0]
    if "/" in tag and ("." in first or ":" in first or first == "localhost"):
        return tag
    return f"docker.io/{tag}" if "/" in tag else f"docker.io/library/{tag}"


def show_plain(ctx: Context, messages: Iterable[dict[str, Any]]) -> str:
    """Print the stream as plain progress on stderr (where BuildKit prints it); the image id."""

    def write(text: str) -> None:
        ctx.stderr.write(text)
        ctx.stderr.flush()

    progress = PlainProgress(write)
    image_id = ""
    for msg in messages:
        failed = stream_error(msg)
        if failed is not None:
            progress.error(failed.message)
            raise failed
        aux = msg.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            image_id = str(aux["ID"])
        progress.feed(msg)
    progress.finish(image_id)
    return image_id


def stream_error(msg: dict[str, Any]) -> CommandExit | None:
    """The daemon's error message as the exit docker's `jsonmessage` makes of it (its text and
    code); None for any other message."""
    if not (msg.get("error") or msg.get("errorDetail")):
        return None
    detail = msg.get("errorDetail") or {}
    text = str(msg.get("error") or detail.get("message") or "unknown error")
    return CommandExit(int(detail.get("code") or 1), text)

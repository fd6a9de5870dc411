"""`dockwright build --ssh default|<id>[=<socket>|<key>[,<key>]]`: the client's SSH agents,
served to the build's `RUN --mount=type=ssh` steps over one upgraded connection.

buildx's grammar and checks: no value means $SSH_AUTH_SOCK; a value is one agent socket or key
files (never both). Key files are loaded into a private `ssh-agent` (openssh-client) that lives
as long as the build. Every agent is read-only to the build, as BuildKit's are: a step may list
identities and ask for signatures; adding, removing, locking and extensions are refused.
docs/build-ssh.md has the protocol; types/buildssh.py the header and the framing.
"""

from __future__ import annotations

import os
import queue
import secrets
import shutil
import socket
import stat
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockwright.cli.context import CommandExit
from dockwright.errors import InvalidParameter
from dockwright.types import buildssh
from dockwright.types.buildssh import CLOSE, DATA, MAX_PAYLOAD, OPEN, FrameDecoder, FrameError

if TYPE_CHECKING:
    from dockwright.client.api import Client, Hijacked

REQUEST_IDENTITIES, SIGN_REQUEST = 11, 13  # what a build may ask (agent protocol message types)
FAILURE = b"\0\0\0\1\5"  # SSH_AGENT_FAILURE
AGENT_WAIT = 5.0  # seconds for a private ssh-agent to create its socket
# The agent runs under a shell that kills it when its stdin (our pipe) closes: at `stop`, or
# when we die, even by SIGKILL (Debian's ssh-agent is setgid, so PR_SET_PDEATHSIG would not
# survive its exec).
AGENT_SCRIPT = 'ssh-agent -D -a "$1" & read -r _; kill "$!" 2>/dev/null; wait'


@dataclass(frozen=True)
class SshSpec:
    id: str
    paths: tuple[str, ...] = ()


def parse_ssh(text: str) -> SshSpec:
    """One `--ssh` value (pure): `id[=path[,path…]]`."""
    agent_id, eq, value = text.partition("=")
    agent_id = agent_id or buildssh.DEFAULT_ID
    try:
        buildssh.check_id(agent_id)
    except InvalidParameter:
        raise CommandExit(1, f"invalid ssh agent id {agent_id!r} in --ssh {text}") from None
    paths = tuple(p for p in value.split(",") if p) if eq else ()
    return SshSpec(agent_id, paths)


def agent_paths(values: Iterable[str], environ: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """The paths behind every `--ssh` id (no path: $SSH_AUTH_SOCK); buildx's messages."""
    found: dict[str, tuple[str, ...]] = {}
    for text in values:
        spec = parse_ssh(text)
        paths = spec.paths or (environ.get("SSH_AUTH_SOCK", ""),)
        if not paths[0]:
            raise CommandExit(1, "invalid empty ssh agent socket: make sure SSH_AUTH_SOCK is set")
        if spec.id in found:
            raise CommandExit(1, f"invalid duplicate ID {spec.id}")
        found[spec.id] = paths
    return found


def classify(paths: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """("socket", (path,)) for one agent socket, ("keys", paths) for key files."""
    sockets = []
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            raise CommandExit(1, f"stat {path}: {(exc.strerror or str(exc)).lower()}") from None
        if stat.S_ISSOCK(mode):
            sockets.append(path)
    if len(sockets) > 1:
        raise CommandExit(1, "only single socket allowed")
    if sockets and len(paths) > 1:
        raise CommandExit(1, "invalid combination of keys and sockets")
    return ("socket", paths) if sockets else ("keys", paths)


# -- private agents for key files -------------------------------------------------------------


@dataclass
class KeyAgent:
    """An `ssh-agent` of ours holding key files; `stop` ends it (through the shell we
    started, by its PID) and removes its directory."""

    directory: str
    proc: subprocess.Popen[bytes]

    @property
    def socket(self) -> str:
        return os.path.join(self.directory, "agent.sock")

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(AGENT_WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_key_agent(keys: tuple[str, ...]) -> KeyAgent:
    """A private ssh-agent holding `keys` (CommandExit when a key cannot be loaded)."""
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        raise CommandExit(1, "--ssh with key files needs ssh-agent and ssh-add (openssh-client)")
    directory = tempfile.mkdtemp(prefix="dockwright-ssh-")
    sock = os.path.join(directory, "agent.sock")
    proc = subprocess.Popen(["sh", "-c", AGENT_SCRIPT, "sh", sock], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    agent = KeyAgent(directory, proc)
    try:
        _wait_for_socket(agent)
        _add_keys(agent, keys)
    except BaseException:
        agent.stop()
        raise
    return agent


def _wait_for_socket(agent: KeyAgent) -> None:
    deadline = time.monotonic() + AGENT_WAIT
    while not os.path.exists(agent.socket):
        if agent.proc.poll() is not None or time.monotonic() > deadline:
            raise CommandExit(1, "ssh-agent did not start")
        time.sleep(0.01)


def _add_keys(agent: KeyAgent, keys: tuple[str, ...]) -> None:
    """Load each key (no passphrase prompt: BuildKit does not prompt either)."""
    env = {**os.environ, "SSH_AUTH_SOCK": agent.socket, "SSH_ASKPASS_REQUIRE": "never"}
    for key in keys:
        r = subprocess.run(["ssh-add", "-q", "--", key], env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, check=False)  # fmt: skip
        if r.returncode != 0:
            reason = (r.stderr.strip().splitlines() or ["ssh-add failed"])[-1]
            raise CommandExit(1, f"failed to parse {key}: {reason}")


# -- the forwarding session -------------------------------------------------------------------


@dataclass
class Forwarder:
    """Serves the daemon's agent streams on `conn` from a thread, until `close`."""

    conn: Hijacked
    sockets: dict[str, str]  # agent id -> the agent's unix socket
    streams: dict[int, queue.Queue[bytes | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self._spawn(self._serve)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def send(self, stream: int, kind: int, payload: bytes = b"") -> None:
        with self.lock:
            for i in range(0, max(len(payload), 1), MAX_PAYLOAD):
                self.conn.sendall(buildssh.frame(stream, kind, payload[i : i + MAX_PAYLOAD]))

    def _serve(self) -> None:
        """Read the daemon's frames until it (or `close`) ends the connection."""
        decoder = FrameDecoder()
        try:
            while data := self.conn.recv():
                for stream, kind, payload in decoder.feed(data):
                    self._dispatch(stream, kind, payload)
        except (OSError, FrameError):
            pass
        finally:
            with self.lock:
                inboxes, self.streams = list(self.streams.values()), {}
            for inbox in inboxes:
                inbox.put(None)

    def _dispatch(self, stream: int, kind: int, payload: bytes) -> None:
        if kind == OPEN:
            path = self.sockets.get(payload.decode(errors="replace"))
            if path is None:
                self.send(stream, CLOSE)
                return
            inbox: queue.Queue[bytes | None] = queue.Queue()
            with self.lock:
                self.streams[stream] = inbox
            self._spawn(self._stream, stream, path, inbox)
            return
        with self.lock:
            inbox_ = self.streams.get(stream) if kind == DATA else self.streams.pop(stream, None)
        if inbox_ is not None:
            inbox_.put(payload if kind == DATA else None)

    def _stream(self, stream: int, path: str, inbox: queue.Queue[bytes | None]) -> None:
        """One agent connection: each request the filter allows goes to the agent, whose
        reply goes back; others are answered with a failure."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as agent:
                agent.connect(path)
                for request in agent_messages(inbox):
                    self.send(stream, DATA, answer(agent, request))
        except (OSError, ValueError):
            pass
        finally:
            with self.lock:
                ours = self.streams.pop(stream, None) is not None
            if ours:
                try:
                    self.send(stream, CLOSE)
                except OSError:
                    pass

    def close(self) -> None:
        """End the session (the daemon's sockets see their agents go) and join the threads."""
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        for thread in self.threads:
            thread.join(5)
        self.conn.close()


def agent_messages(inbox: queue.Queue[bytes | None]) -> Iterator[bytes]:
    """Whole agent messages (uint32 length, then the body) from the stream's DATA."""
    buf = bytearray()
    while (data := inbox.get()) is not None:
        buf += data
        while len(buf) >= 4:
            (length,) = struct.unpack_from(">I", buf)
            if length > MAX_PAYLOAD:
                raise ValueError(f"agent message too long: {length} bytes")
            if len(buf) < 4 + length:
                break
            yield bytes(buf[: 4 + length])
            del buf[: 4 + length]


def answer(agent: socket.socket, request: bytes) -> bytes:
    """The agent's reply to an allowed request; FAILURE for any other."""
    if len(request) < 5 or request[4] not in (REQUEST_IDENTITIES, SIGN_REQUEST):
        return FAILURE
    agent.sendall(request)
    head = _recv_exact(agent, 4)
    (length,) = struct.unpack(">I", head)
    if length > MAX_PAYLOAD:
        raise ValueError(f"agent reply too long: {length} bytes")
    return head + _recv_exact(agent, length)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionResetError("ssh agent closed the connection")
        buf += chunk
    return bytes(buf)


@contextmanager
def forward_ssh(client: Client, values: Iterable[str],
                environ: Mapping[str, str]) -> Iterator[dict[str, str]]:  # fmt: skip
    """While the build runs: serve the `--ssh` agents; yields the build request's headers
    (none without `--ssh`). Private agents and threads are gone when it exits."""
    paths = agent_paths(values, environ)
    if not paths:
        yield {}
        return
    agents: list[KeyAgent] = []
    forwarder: Forwarder | None = None
    try:
        sockets = {}
        for agent_id, found in paths.items():
            kind, found = classify(found)
            if kind == "keys":
                agents.append(start_key_agent(found))
            sockets[agent_id] = agents[-1].socket if kind == "keys" else found[0]
        session = secrets.token_hex(16)
        conn, _ = client.hijack("/build/ssh", {"session": session})
        forwarder = Forwarder(conn, sockets)
        forwarder.start()
        yield {buildssh.HEADER: buildssh.encode(buildssh.SshForward(session, tuple(sockets)))}
    finally:
        if forwarder is not None:
            forwarder.close()
        for agent in agents:
            agent.stop()

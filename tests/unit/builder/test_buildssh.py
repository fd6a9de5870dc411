"""SSH agent forwarding for builds: the framing and header codec (types/buildssh.py), the
`--ssh` flag and the client's read-only agent filter (cli/buildssh.py), the ssh mount's
defaults (builder/mounts.py) and the daemon's sessions and agent sockets over a fake
connection (engine/builds/sshforward.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import threading
from pathlib import Path

import pytest

from dockwright.builder.mounts import parse_mount, resolve, run_mounts, ssh_env, step_flags
from dockwright.builder.parser import parse
from dockwright.cli import buildssh as cli
from dockwright.cli.context import CommandExit
from dockwright.engine.builds.sshforward import AgentSocket, SshSessions
from dockwright.errors import Conflict, DockwrightError, InvalidParameter
from dockwright.types import buildssh
from dockwright.types.buildssh import CLOSE, DATA, OPEN, FrameDecoder, FrameError, SshForward

pytestmark = pytest.mark.unit

SESSION = "0123456789abcdef0123456789abcdef"


# --- framing and header -----------------------------------------------------------------------


def test_frames_decode_whatever_the_pieces():
    wire = buildssh.frame(1, OPEN, b"default") + buildssh.frame(1, DATA, b"x" * 1000)
    wire += buildssh.frame(7, CLOSE)
    decoder, frames = FrameDecoder(), []
    for i in range(len(wire)):
        frames += decoder.feed(wire[i : i + 1])
    assert frames == [(1, OPEN, b"default"), (1, DATA, b"x" * 1000), (7, CLOSE, b"")]
    assert decoder.pending == 0
    assert FrameDecoder().feed(wire[:-3]) == [(1, OPEN, b"default"), (1, DATA, b"x" * 1000)]


def test_bad_frames_are_refused():
    with pytest.raises(FrameError, match="kind 9"):
        FrameDecoder().feed(struct.pack(">IBI", 1, 9, 0))
    with pytest.raises(FrameError, match="length"):
        FrameDecoder().feed(struct.pack(">IBI", 1, DATA, buildssh.MAX_PAYLOAD + 1))
    with pytest.raises(FrameError, match="too large"):
        buildssh.frame(1, DATA, b"x" * (buildssh.MAX_PAYLOAD + 1))


def test_header_round_trip_and_junk():
    forward = SshForward(SESSION, ("default", "git.deploy"))
    value = buildssh.encode(forward)
    assert value == f"{SESSION} default git.deploy"
    assert buildssh.decode(value) == forward
    assert buildssh.decode(None) is None and buildssh.decode("") is None
    for junk, message in [
        ("short default", "invalid ssh session id 'short'"),
        (SESSION, "no agent ids"),
        (f"{SESSION} a;b", "invalid ssh agent id 'a;b'"),
    ]:
        with pytest.raises(InvalidParameter, match=message):
            buildssh.decode(junk)


# --- the --ssh flag ---------------------------------------------------------------------------


def test_parse_ssh_values():
    assert cli.parse_ssh("default") == cli.SshSpec("default")
    assert cli.parse_ssh("git=/k1,/k2") == cli.SshSpec("git", ("/k1", "/k2"))
    assert cli.parse_ssh("=/sock") == cli.SshSpec("default", ("/sock",))
    with pytest.raises(CommandExit, match="invalid ssh agent id"):
        cli.parse_ssh("a b=/x")


def test_agent_paths_use_ssh_auth_sock_and_refuse_duplicates():
    env = {"SSH_AUTH_SOCK": "/run/agent"}
    assert cli.agent_paths(["default", "git=/k"], env) == {
        "default": ("/run/agent",),
        "git": ("/k",),
    }
    with pytest.raises(CommandExit, match="invalid empty ssh agent socket"):
        cli.agent_paths(["default"], {})
    with pytest.raises(CommandExit, match="invalid duplicate ID git"):
        cli.agent_paths(["git=/a", "git=/b"], env)
    assert cli.agent_paths([], {}) == {}


def test_classify_sockets_and_keys(tmp_path: Path):
    key, sock_path = tmp_path / "id", tmp_path / "s"
    key.write_text("key")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        assert cli.classify((str(sock_path),)) == ("socket", (str(sock_path),))
        assert cli.classify((str(key), str(key))) == ("keys", (str(key), str(key)))
        with pytest.raises(CommandExit, match="invalid combination of keys and sockets"):
            cli.classify((str(key), str(sock_path)))
        with pytest.raises(CommandExit, match="only single socket allowed"):
            cli.classify((str(sock_path), str(sock_path)))
    with pytest.raises(CommandExit, match=f"stat {tmp_path}/nope: no such file or directory"):
        cli.classify((str(tmp_path / "nope"),))


# --- the client's read-only filter ------------------------------------------------------------


def _message(kind: int, body: bytes = b"") -> bytes:
    return struct.pack(">I", 1 + len(body)) + bytes([kind]) + body


def test_agent_messages_are_reassembled_from_pieces():
    import queue

    inbox: queue.Queue[bytes | None] = queue.Queue()
    wire = _message(11) + _message(13, b"sign-me")
    for piece in (wire[:3], wire[3:7], wire[7:]):
        inbox.put(piece)
    inbox.put(None)
    assert list(cli.agent_messages(inbox)) == [_message(11), _message(13, b"sign-me")]


def test_only_listing_and_signing_reach_the_agent():
    ours, agent_end = socket.socketpair()
    seen: list[bytes] = []

    def fake_agent() -> None:
        with agent_end:
            while head := agent_end.recv(4):
                seen.append(agent_end.recv(struct.unpack(">I", head)[0]))
                agent_end.sendall(_message(12, b"\0\0\0\0"))  # IDENTITIES_ANSWER, none

    thread = threading.Thread(target=fake_agent)
    thread.start()
    with ours:
        assert cli.answer(ours, _message(11)) == _message(12, b"\0\0\0\0")
        for refused in (17, 18, 19, 22, 25, 27):  # add, remove, remove all, lock, constrained, ext
            assert cli.answer(ours, _message(refused, b"key")) == cli.FAILURE
        assert cli.answer(ours, b"\0\0\0\0") == cli.FAILURE
        ours.shutdown(socket.SHUT_WR)
        thread.join(5)
    assert seen == [bytes([11])]


# --- the mount's defaults ---------------------------------------------------------------------


def _mounts(flags: str):
    ins = parse(f"FROM x\nRUN {flags} true\n").instructions[1]
    return run_mounts(ins, {}, "\\", "/app")


def test_ssh_mount_defaults_follow_buildkit():
    first, cache, second, third = _mounts(
        "--mount=type=ssh --mount=type=cache,target=/c --mount=type=ssh,id=git,target=rel "
        "--mount=type=ssh,uid=5,mode=0640,required"
    )
    assert (first.id, first.target, first.mode, first.readonly) == (
        "default", "/run/buildkit/ssh_agent.0", 0o600, True)  # fmt: skip
    assert (second.id, second.target) == ("git", "/app/rel")
    assert (third.target, third.uid, third.mode, third.required) == (
        "/run/buildkit/ssh_agent.2", 5, 0o640, True)  # fmt: skip
    assert ssh_env((cache, first, second), set()) == {"SSH_AUTH_SOCK": first.target}
    assert ssh_env((first,), {"SSH_AUTH_SOCK"}) == {} and ssh_env((cache,), set()) == {}
    # the options are in the step's key (never an agent's identity: it has none here)
    assert step_flags((first,), "default") != step_flags((third,), "default")


def test_ssh_mount_mistakes():
    with pytest.raises(InvalidParameter, match="ssh does not support source"):
        parse_mount("type=ssh,source=/x")
    with pytest.raises(InvalidParameter, match="unexpected key 'size' for mount type 'ssh'"):
        parse_mount("type=ssh,size=1m")
    assert resolve(parse_mount("type=ssh,id=a,target=/s,rw"), "/").readonly is False


# --- the daemon's sessions and agent sockets --------------------------------------------------


class FakeConn:
    """The upgraded connection, seen from the daemon: the client writes into `incoming`."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[bytes] = asyncio.Queue()
        self.frames: asyncio.Queue[tuple[int, int, bytes]] = asyncio.Queue()
        self.decoder = FrameDecoder()
        self.closed = False

    async def read(self, n: int = 65536) -> bytes:
        return await self.incoming.get()

    async def write(self, data: bytes) -> None:
        for f in self.decoder.feed(data):
            self.frames.put_nowait(f)

    async def close(self) -> None:
        self.closed = True


async def _forwarding(tmp_path: Path) -> None:
    sessions, conn = SshSessions(), FakeConn()
    served = asyncio.create_task(sessions.serve(SESSION, conn))
    session = await sessions.get(SESSION, timeout=1)
    assert sessions.connected(SESSION)
    with pytest.raises(Conflict):
        await sessions.serve(SESSION, FakeConn())
    async with AgentSocket(session, "git", tmp_path, os.getuid(), os.getgid(), 0o640) as path:
        assert path.is_socket() and path.stat().st_mode & 0o777 == 0o640
        reader, writer = await asyncio.open_unix_connection(str(path))
        assert await conn.frames.get() == (1, OPEN, b"git")
        writer.write(b"request")
        assert await conn.frames.get() == (1, DATA, b"request")
        conn.incoming.put_nowait(buildssh.frame(1, DATA, b"reply"))
        assert await reader.readexactly(5) == b"reply"
        conn.incoming.put_nowait(buildssh.frame(1, CLOSE))  # the client's agent went away
        assert await reader.read() == b""
        writer.close()
        second, w2 = await asyncio.open_unix_connection(str(path))
        assert (await conn.frames.get())[:2] == (2, OPEN)
        w2.close()  # the container's side closes: the client is told
        assert await conn.frames.get() == (2, CLOSE, b"")
        third, w3 = await asyncio.open_unix_connection(str(path))
        assert (await conn.frames.get())[:2] == (3, OPEN)
    assert not path.exists()
    assert await third.read() == b""  # leaving closes what it accepted
    w3.close()
    conn.incoming.put_nowait(b"")  # the client closes the session
    await served
    assert not sessions.connected(SESSION)
    with pytest.raises(ConnectionError):
        await session.open("git")
    with pytest.raises(DockwrightError, match=f"ssh session {SESSION} is not connected"):
        await sessions.get(SESSION, timeout=0.05)


def test_agent_socket_forwards_over_the_session(tmp_path: Path):
    asyncio.run(asyncio.wait_for(_forwarding(tmp_path), 10))

"""/build/ssh: the connection over which a build's client serves its SSH agents (dockwright's own).

`POST /build/ssh?session=<id>` is upgraded like attach (101, `Upgrade: tcp`); the client then
answers the agent connections the build's RUN steps open, framed as types/buildssh.py says
(docs/build-ssh.md has the protocol). The build request names the session in its
`X-Dockwright-Build-Ssh` header; the session lasts until the client closes this connection.
"""

from __future__ import annotations

from dockwright.api.http import Request
from dockwright.api.router import Route
from dockwright.engine.builds.sshforward import SshSessions
from dockwright.errors import Conflict
from dockwright.types.buildssh import check_session

CONTENT_TYPE = "application/vnd.dockwright.ssh-forward"


def buildssh_routes(sessions: SshSessions) -> list[Route]:
    async def ssh(req: Request) -> None:
        session_id = check_session(req.query.get("session") or "")
        if sessions.connected(session_id):
            raise Conflict(f"ssh session {session_id} is already connected")
        conn = await req.hijack(CONTENT_TYPE)
        try:
            await sessions.serve(session_id, conn)
        finally:
            await conn.close()

    return [Route("POST", "/build/ssh", ssh)]

"""/containers/{id}/exec and /exec/{id}/… routes."""

from __future__ import annotations

from typing import Any

from dockwright.api.http import Request, Response, json_response
from dockwright.api.router import Route
from dockwright.api.routes.containers import MUX, RAW, pump
from dockwright.api.schema.common import field, str_list
from dockwright.api.streams import frame
from dockwright.engine.containers.detach import DEFAULT_DETACH_KEYS, parse_detach_keys
from dockwright.engine.execs import ExecService
from dockwright.errors import DockwrightError, InvalidParameter
from dockwright.types.container import ExecConfig, ExecRecord


def parse_exec(body: Any) -> ExecConfig:
    if not isinstance(body, dict):
        raise InvalidParameter("exec config must be a JSON object")
    keys = field(body, "DetachKeys", str, "")
    if keys:
        parse_detach_keys(keys)
    return ExecConfig(
        cmd=str_list(body, "Cmd") or (),
        tty=field(body, "Tty", bool, False),
        attach_stdin=field(body, "AttachStdin", bool, False),
        attach_stdout=field(body, "AttachStdout", bool, False),
        attach_stderr=field(body, "AttachStderr", bool, False),
        detach_keys=keys,
        env=str_list(body, "Env") or (),
        user=field(body, "User", str, ""),
        working_dir=field(body, "WorkingDir", str, ""),
        privileged=field(body, "Privileged", bool, False),
    )


def exec_json(r: ExecRecord) -> dict[str, Any]:
    cfg = r.config
    return {
        "ID": r.id,
        "Running": r.running,
        "ExitCode": r.exit_code,
        "ProcessConfig": {
            "tty": cfg.tty,
            "entrypoint": cfg.cmd[0] if cfg.cmd else "",
            "arguments": list(cfg.cmd[1:]),
            "privileged": cfg.privileged,
            "user": cfg.user,
        },
        "OpenStdin": cfg.attach_stdin,
        "OpenStderr": cfg.attach_stderr,
        "OpenStdout": cfg.attach_stdout,
        "CanRemove": r.can_remove,
        "ContainerID": r.container_id,
        "DetachKeys": cfg.detach_keys,
        "Pid": r.pid,
    }


def exec_routes(execs: ExecService) -> list[Route]:
    async def create(req: Request) -> Response:
        eid = execs.create(req.params["id"], parse_exec(await req.json()))
        return json_response({"Id": eid}, status=201)

    async def start(req: Request) -> Response | None:
        body = await req.json() or {}
        if not isinstance(body, dict):
            raise InvalidParameter("exec start config must be a JSON object")
        eid = req.params["id"]
        if field(body, "Detach", bool, False):
            await execs.start(eid, detach=True)
            return Response(200)
        record = execs.startable(eid)
        keys = parse_detach_keys(record.config.detach_keys or DEFAULT_DETACH_KEYS)
        # Hijack first, as dockerd does: output must not race the 101 response (docker-py
        # would lose bytes that arrive together with the response head).
        conn = await req.hijack(RAW if record.config.tty else MUX)
        try:
            try:
                _, session = await execs.start(eid, detach=False)
            except DockwrightError as exc:
                # dockerd reports it inside the stream, on stdout; the exit code is in inspect
                text = exc.message.encode() + b"\r\n"
                await conn.write(text if record.config.tty else frame(1, text))
                return None
            assert session is not None
            try:
                await pump(conn, session, stdin=record.config.attach_stdin, keys=keys)
                await execs.wait_done(eid)
            finally:
                await session.close()
        finally:
            await conn.close()
        return None

    async def resize(req: Request) -> Response:
        q = req.query
        await execs.resize(req.params["id"], q.int("h", 0) or 0, q.int("w", 0) or 0)
        return Response(200)

    async def inspect(req: Request) -> Response:
        record, _ = execs.get(req.params["id"])
        return json_response(exec_json(record))

    return [
        Route("POST", "/containers/{id}/exec", create),
        Route("POST", "/exec/{id}/start", start),
        Route("POST", "/exec/{id}/resize", resize),
        Route("GET", "/exec/{id}/json", inspect),
    ]

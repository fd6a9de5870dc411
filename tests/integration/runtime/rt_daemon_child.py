"""A stand-in daemon for the restart tests: start one container, say so, then wait to be killed.

argv: state_dir bundle rootfs cgroups_path cid stdin(0|1) command...
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from dockwright.runtime import ConmonRuntime, RunSpec, build_spec


async def main(argv: list[str]) -> None:
    state_dir, bundle, rootfs, cgroups_path, cid, stdin, *command = argv
    rt = ConmonRuntime("/usr/bin/crun", Path(state_dir))
    spec = build_spec(RunSpec(rootfs=rootfs, args=tuple(command), cgroups_path=cgroups_path))
    log = Path(bundle) / "log"
    pid = await rt.create(
        cid, Path(bundle), spec, tty=False, stdin=stdin == "1", stdin_once=True, log_path=log
    )
    await rt.start(cid)
    print(f"ready {pid}", flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

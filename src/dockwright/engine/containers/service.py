"""The containers service: the one owner of container records and their state transitions."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

from dockwright.engine.containers.lifecycle import LifecycleMixin
from dockwright.engine.containers.plan import all_mounts
from dockwright.engine.containers.ports import LogsPort
from dockwright.engine.containers.records import RecordsMixin
from dockwright.engine.containers.streams import StreamsMixin
from dockwright.engine.containers.views import ContainerView
from dockwright.runtime.log_options import check_readable
from dockwright.types.container import Container


def tree_size(root: Path) -> int:
    """Bytes in files under `root` (hard links counted once, symlinks not followed)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


class ContainerService(LifecycleMixin, StreamsMixin, RecordsMixin):
    logs_reader: LogsPort

    def view(self, c: Container, size: bool = False) -> ContainerView:
        """What inspect and ps show; `size` walks the container's writable layer (slow)."""
        d = self.container_dir(c.id)
        size_rw = tree_size(self.rootfs.upper_dir(c.id)) if size else 0
        size_root = size_rw + self.images.image_size(c.image_id) if size else 0
        return ContainerView(
            container=c,
            image_name=c.config.image or self.images.display_name(c.image_id),
            mounts=tuple(all_mounts(c.host)),
            log_path=self.log_path(c.id),
            hosts_path=d / "hosts",
            hostname_path=d / "hostname",
            resolv_conf_path=d / "resolv.conf",
            lower_dirs=tuple(self.rootfs.lower_dirs(c.id)),
            upper_dir=self.rootfs.upper_dir(c.id),
            work_dir=self.rootfs.upper_dir(c.id).parent / "work",
            merged_dir=self.rootfs.upper_dir(c.id).parent / "merged",
            exec_ids=tuple(self.running_exec_ids(c.id)),
            size_rw=size_rw,
            size_root_fs=size_root,
            network=self.network.networking(c) if self.network is not None else None,
            sandbox_key=self._sandbox_key(c),
        )

    def _sandbox_key(self, c: Container) -> str:
        """The netns a running container's networks live in (`nsenter --net=` takes it)."""
        if self.network is None or not c.running:
            return ""
        path = self.network.sandbox_path(c.id)
        return str(path) if path.exists() else ""

    def inspect(self, ref: str, size: bool = False) -> ContainerView:
        return self.view(self.get(ref), size)

    def _log_records(
        self, c: Container, follow: bool, tail: int | None, since: float, until: float
    ) -> AsyncIterator[tuple[int, float, bytes]]:
        check_readable(c.host.log_config)
        exited = self.exit_future(c.id) if follow else None
        return self.logs_reader.read(
            self.log_path(c.id), follow=exited, tail=tail, since=since, until=until
        )

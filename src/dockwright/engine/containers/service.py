"""The containers service: the one owner of container records and their state transitions."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dockwright.engine.containers.lifecycle import LifecycleMixin
from dockwright.engine.containers.plan import all_mounts
from dockwright.engine.containers.ports import LogsPort
from dockwright.engine.containers.records import RecordsMixin
from dockwright.engine.containers.streams import StreamsMixin
from dockwright.engine.containers.views import ContainerView
from dockwright.types.container import Container


class ContainerService(LifecycleMixin, StreamsMixin, RecordsMixin):
    logs_reader: LogsPort

    def view(self, c: Container) -> ContainerView:
        d = self.container_dir(c.id)
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
        )

    def inspect(self, ref: str) -> ContainerView:
        return self.view(self.get(ref))

    def _log_records(
        self, c: Container, follow: bool, tail: int | None, since: float, until: float
    ) -> AsyncIterator[tuple[int, float, bytes]]:
        exited = self.exit_future(c.id) if follow else None
        return self.logs_reader.read(
            self.log_path(c.id), follow=exited, tail=tail, since=since, until=until
        )

"""Creating, listing, renaming, updating and removing container records."""

from __future__ import annotations

import asyncio
import builtins
import secrets
import shutil
import time
from dataclasses import replace

from dockwright.engine.containers import filters as flt
from dockwright.engine.containers.base import ContainerBase
from dockwright.engine.containers.plan import (
    command_line,
    merge_config,
    validate_host,
    validate_name,
    with_swap_default,
)
from dockwright.engine.names import random_name
from dockwright.errors import Conflict, InvalidParameter, NotFound
from dockwright.runtime.log_options import merge_log_config
from dockwright.types.container import (
    CREATED,
    DEAD,
    EXITED,
    PAUSED,
    REMOVING,
    RUNNING,
    Container,
    ContainerConfig,
    HostSettings,
    Resources,
    RestartPolicy,
)


class RecordsMixin(ContainerBase):
    def create(
        self,
        name: str | None,
        request: ContainerConfig,
        host: HostSettings,
        endpoints: dict[str, tuple[str, tuple[str, ...], str]] | None = None,
    ) -> tuple[Container, builtins.list[str]]:
        """Record a new container (state `created`) and prepare its rootfs, all or nothing.

        `endpoints` is NetworkingConfig: network name → (static IPv4, aliases, static IPv6).
        """
        if not request.image:
            raise InvalidParameter("config cannot be empty in order to create a container")
        validate_host(host, self.config.runtimes)
        if self.network is not None:
            self.network.validate_mode(host.network_mode)
        host = with_swap_default(host)
        log_config = merge_log_config(host.log_config, self.config.log_driver, self.config.log_opts)
        host = replace(host, log_config=log_config)
        image_id, image_config = self.images.resolve(request.image)
        config = merge_config(request, image_config)
        path, args = command_line(config)
        cid = secrets.token_hex(32)
        name = validate_name(name) if name else random_name(self.store.name_taken)
        if not config.hostname:
            config = replace(config, hostname=cid[:12])
        c = Container(
            id=cid,
            name=name,
            created=time.time(),
            image_id=image_id,
            config=config,
            host=host,
            runtime=host.runtime or self.config.default_runtime,
            path=path,
            args=args,
        )
        self.container_dir(cid).mkdir(parents=True, exist_ok=True)
        try:
            with self.store.db.transaction():
                self.store.insert(c)
                self._record_endpoints(cid, endpoints or {})
                self.rootfs.prepare(image_id, cid)
        except BaseException:
            self.rootfs.remove(cid)
            shutil.rmtree(self.container_dir(cid), ignore_errors=True)
            raise
        self.publish(c, "create")
        return c, []

    def _record_endpoints(
        self, cid: str, endpoints: dict[str, tuple[str, tuple[str, ...], str]]
    ) -> None:
        """NetworkingConfig of a create; "default" is the default bridge network."""
        if self.network is None:
            return
        for net, (ip, aliases, ip6) in endpoints.items():
            if net in ("none", "host") or net.startswith("container:"):
                continue
            try:
                self.network.set_endpoint_config(
                    cid, "bridge" if net == "default" else net, ip, aliases, ip6
                )
            except NotFound as exc:  # a 404 would make the docker CLI try to pull the image
                raise InvalidParameter(exc.message) from None

    def list(
        self, *, all: bool, limit: int, filters: dict[str, builtins.list[str]]
    ) -> builtins.list[Container]:
        flt.check(filters)
        found = []
        for c in self.store.all():
            if not all and not c.running and not filters.get("status") and limit <= 0:
                continue
            if flt.matches(c, filters, self.images, lambda ref: self.get(ref).created):
                found.append(c)
        if limit > 0:
            found = found[:limit]
        return found

    def rename(self, ref: str, new_name: str) -> None:
        c = self.get(ref)
        new_name = validate_name(new_name)
        if new_name == c.name:
            raise InvalidParameter("Renaming a container with the same name as its current name")
        if self.store.name_taken(new_name):
            raise Conflict(f'Conflict. The container name "/{new_name}" is already in use')
        old = c.name
        c.name = new_name
        self.store.save(c)
        self.publish(c, "rename", oldName="/" + old)

    async def update(
        self, ref: str, resources: Resources, policy: RestartPolicy | None
    ) -> builtins.list[str]:
        """Change resource limits (applied live when running) and the restart policy."""
        c = self.get(ref)
        async with self._locks[c.id]:
            c = self.get(c.id)
            if policy is not None:
                if c.host.auto_remove and policy.name not in ("", "no"):
                    raise InvalidParameter(
                        "Restart policy cannot be updated because AutoRemove is enabled for the container"
                    )
                c.host = replace(c.host, restart_policy=policy)
            merged = _merge_resources(c.host.resources, resources)
            c.host = replace(c.host, resources=merged)
            validate_host(c.host, self.config.runtimes)
            if c.running:
                await self.apply_resources(c)
            self.store.save(c)
        self.publish(c, "update")
        return []

    async def remove(self, ref: str, *, force: bool, volumes: bool) -> None:
        c = self.get(ref)
        if c.running:
            if not force:
                state = "paused" if c.state.status == PAUSED else "running"
                raise Conflict(
                    f'cannot remove container "/{c.name}": container is {state}: '
                    "stop the container before removing or force remove"
                )
            # not under the lock: recording the exit takes it
            await self.kill_and_reap(c)
        async with self._locks[c.id]:
            c = self.get(c.id)
            if c.state.status == REMOVING:
                raise Conflict(f"removal of container {ref} is already in progress")
            if c.running:
                raise Conflict(f'cannot remove container "/{c.name}": container was restarted')
            await self.destroy(c)

    async def destroy(self, c: Container) -> None:
        """Remove a stopped container's record, then its runtime state, rootfs and files.

        `removed` waiters are answered as soon as the record is gone (`docker run --rm` returns
        then); the caller still awaits the file cleanup. A crash in between leaves files
        without a record, which `sweep_orphans` removes at the next start.
        """
        c.state.status = REMOVING
        self.store.save(c)
        monitor = self._monitors.pop(c.id, None)
        if monitor is not None:
            monitor.cancel()
        self.store.delete(c.id)
        self.fail_pending_attachers(c.id)  # clients attached to a never-started container
        for hook in self.removal_hooks:
            hook(c.id)
        self.publish(c, "destroy")
        self._waiters[c.id].resolve("removed", c.state.exit_code, c.state.error)
        self._waiters.pop(c.id, None)
        self._locks.pop(c.id, None)
        # shielded and owned by the service: a daemon shutting down waits for it (base.shutdown)
        await asyncio.shield(self.own_cleanup(self._release_and_remove(c)))

    async def _release_and_remove(self, c: Container) -> None:
        try:
            await self.runtime_of(c).delete(c.id, force=True)
        except Exception:  # already gone is fine; anything else must not block removal
            pass
        await asyncio.to_thread(self._remove_files, c.id)

    def sweep_orphans(self) -> builtins.list[str]:
        """Remove rootfs snapshots and directories whose container record is gone (blocking)."""
        known = {c.id for c in self.store.all()}
        on_disk = set(self.rootfs.all())
        root = self.config.data_root / "containers"
        on_disk |= {p.name for p in root.iterdir() if p.is_dir() and len(p.name) == 64}
        orphans = sorted(on_disk - known)
        for cid in orphans:
            self._remove_files(cid)
        return orphans

    def _remove_files(self, cid: str) -> None:
        self.rootfs.unmount(cid)
        self.rootfs.remove(cid)
        shutil.rmtree(self.container_dir(cid), ignore_errors=True)

    async def prune(self, filters: dict[str, builtins.list[str]]) -> builtins.list[str]:
        flt.check(filters, allowed=("label", "label!", "until"))
        removed = []
        for c in self.store.all():
            if c.state.status not in (CREATED, EXITED, DEAD):
                continue
            if not flt.matches_prune(c, filters):
                continue
            try:
                await self.remove(c.id, force=False, volumes=False)
                removed.append(c.id)
            except (Conflict, NotFound):
                continue
        self.events.publish("container", "prune", "", {"reclaimed": "0"})  # as dockerd reports
        return removed

    def count_by_state(self) -> dict[str, int]:
        counts = {"running": 0, "paused": 0, "stopped": 0}
        for c in self.store.all():
            if c.state.status == PAUSED:
                counts["paused"] += 1
            elif c.state.status == RUNNING:
                counts["running"] += 1
            else:
                counts["stopped"] += 1
        return counts

    def images_in_use(self) -> dict[str, builtins.list[tuple[str, bool]]]:
        """image id → [(container id, running)] for rmi's conflict checks."""
        used: dict[str, builtins.list[tuple[str, bool]]] = {}
        for c in self.store.all():
            used.setdefault(c.image_id, []).append((c.id, c.running))
        return used


def _merge_resources(old: Resources, new: Resources) -> Resources:
    """Fields left at zero in an update keep their old value (Docker's update semantics)."""
    changes = {name: value for name, value in vars(new).items() if value not in (0, "", None)}
    return replace(old, **changes)

"""Read models handed to the API layer: a container plus the facts inspect and ps show."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dockwright.types.container import Container, MountSpec

if TYPE_CHECKING:
    from dockwright.engine.networks import ContainerNetworking


@dataclass(frozen=True)
class ContainerView:
    container: Container
    image_name: str
    mounts: tuple[MountSpec, ...]
    log_path: Path
    hosts_path: Path
    hostname_path: Path
    resolv_conf_path: Path
    lower_dirs: tuple[Path, ...]
    upper_dir: Path
    work_dir: Path
    merged_dir: Path
    exec_ids: tuple[str, ...] = ()
    sandbox_id: str = ""
    sandbox_key: str = ""
    size_rw: int = 0
    size_root_fs: int = 0
    network: ContainerNetworking | None = None

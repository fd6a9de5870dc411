"""The image a FROM names: local, or pulled through the images service as docker's builder does.

`--pull` pulls every FROM image first; a FROM image missing locally (or present only for
another platform) is pulled too. The platform (`--platform` of the build or of the FROM line)
is passed to the pull and checked against the image's config. `scratch` is an image without
layers, made once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dockwright.builder.options import BuildOptions
from dockwright.engine.images import ImageService
from dockwright.errors import DockwrightError, InvalidParameter, NotFound
from dockwright.image import config as cfg

Emit = Callable[[dict[str, Any]], None]
_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm"}


def parse_platform(text: str) -> tuple[str, str, str]:
    """`os[/arch[/variant]]` → (os, arch, variant); arch "" means any. InvalidParameter."""
    parts = text.lower().split("/")
    if len(parts) > 3 or not all(parts):
        raise InvalidParameter(f"invalid platform {text!r}: expected os[/arch[/variant]]")
    arch = _ARCH_ALIASES.get(parts[1], parts[1]) if len(parts) > 1 else ""
    return parts[0], arch, parts[2] if len(parts) > 2 else ""


def platform_matches(wanted: str, image: dict[str, Any]) -> bool:
    """Whether an image config (`os`, `architecture`, `variant`) satisfies `wanted` ("" = any)."""
    if not wanted:
        return True
    os_, arch, variant = parse_platform(wanted)
    have_arch = _ARCH_ALIASES.get(str(image.get("architecture") or ""), image.get("architecture"))
    if os_ != str(image.get("os") or "linux") or (arch and arch != have_arch):
        return False
    return not variant or variant == str(image.get("variant") or "")


def image_platform(image: dict[str, Any]) -> str:
    parts = [str(image.get("os") or "linux"), str(image.get("architecture") or "")]
    return "/".join(parts + ([str(image["variant"])] if image.get("variant") else []))


class BaseImages:
    """Resolves FROM names for one daemon's images service."""

    def __init__(self, images: ImageService) -> None:
        self.images = images

    async def get(self, name: str, opts: BuildOptions, platform: str, emit: Emit) -> str:
        """The image id for FROM `name`; pull progress goes to `emit`."""
        if name.lower() == "scratch":
            return self._scratch()
        local = self._local(name)
        if local and not opts.pull and platform_matches(platform, self.images.image_config(local)):
            return local
        try:
            await self._pull(name, platform, emit)
        except DockwrightError:
            if local is None or opts.pull and platform_matches(platform, self._config(local)):
                raise
        return self._checked(name, platform)

    def _local(self, name: str) -> str | None:
        try:
            return self.images.resolve(name)[0]
        except NotFound:
            return None

    def _config(self, image_id: str) -> dict[str, Any]:
        return self.images.image_config(image_id)

    def _checked(self, name: str, platform: str) -> str:
        image_id = self.images.resolve(name)[0]
        found = self._config(image_id)
        if not platform_matches(platform, found):
            raise NotFound(f"image with reference {name} was found but does not match the "
                           f"specified platform: wanted {platform}, actual: "
                           f"{image_platform(found)}")  # fmt: skip
        return image_id

    async def _pull(self, name: str, platform: str, emit: Emit) -> None:
        async for msg in self.images.pull(name, None, platform or None):
            if msg.get("error"):
                raise DockwrightError(str(msg["error"]))
            emit(msg)

    def _scratch(self) -> str:
        empty = {"architecture": cfg.host_arch(), "os": "linux", "config": {},
                 "rootfs": {"type": "layers", "diff_ids": []}}  # fmt: skip
        return self.images.store.create(cfg.encode(empty))

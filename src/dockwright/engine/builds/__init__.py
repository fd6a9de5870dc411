"""The build service (`POST /build`): service.py orchestrates stages, base.py holds what every
step shares, run_step.py and copy_step.py execute RUN and COPY/ADD, cache.py persists step keys."""

from dockwright.builder.options import BuildOptions
from dockwright.engine.builds.cache import BuildCache
from dockwright.engine.builds.service import BuildService

__all__ = ["BuildCache", "BuildOptions", "BuildService"]

"""The build service (`POST /build`): service.py orchestrates stages (schedule.py runs them as a
DAG), base.py holds what every step shares (cache lookup, commit.py commits), run_step.py and
copy_step.py execute RUN and COPY/ADD (mounts.py prepares RUN --mount, cachemounts.py keeps the
cache mounts), baseimage.py resolves FROM, cache.py persists step keys and usage.py says what
`system df` shows of the build cache and what `builder prune` frees."""

from dockwright.builder.options import BuildOptions
from dockwright.engine.builds.cache import BuildCache
from dockwright.engine.builds.service import BuildService

__all__ = ["BuildCache", "BuildOptions", "BuildService"]

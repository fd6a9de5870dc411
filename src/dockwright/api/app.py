"""The route table of the Engine API, assembled from each resource's route module."""

from __future__ import annotations

from dockwright.api.router import Router
from dockwright.api.routes.build import build_routes
from dockwright.api.routes.buildssh import buildssh_routes
from dockwright.api.routes.buildsync import build_sync_routes
from dockwright.api.routes.container_fs import container_fs_routes
from dockwright.api.routes.containers import container_routes
from dockwright.api.routes.events import event_routes
from dockwright.api.routes.exec import exec_routes
from dockwright.api.routes.images import image_routes
from dockwright.api.routes.networks import network_routes
from dockwright.api.routes.system import system_routes
from dockwright.api.routes.system_df import system_df_routes
from dockwright.engine.engine import Engine


def build_router(engine: Engine) -> Router:
    router = Router()
    router.add_all(system_routes(engine.system))
    router.add_all(container_routes(engine.containers))
    router.add_all(container_fs_routes(engine.containers))
    router.add_all(exec_routes(engine.execs))
    router.add_all(image_routes(engine.images))
    router.add_all(event_routes(engine.events))
    router.add_all(network_routes(engine.networks))
    router.add_all(build_routes(engine.builds))
    router.add_all(buildssh_routes(engine.builds.ssh_sessions))
    router.add_all(build_sync_routes(engine.builds.contexts))
    router.add_all(system_df_routes(engine.disk_usage))
    return router

"""Pull, push and login as the engine offers them: async message streams over blocking transfers.

The first message of a pull or push is produced only after the registry has answered the
requests that decide whether the transfer can happen, so the API can still answer with an error
status (404 "manifest unknown", "pull access denied") before it starts streaming.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from dataclasses import dataclass

from dockwright.distribution import auth, manifest, pull, push
from dockwright.distribution import progress as pg
from dockwright.distribution.blobsource import CHUNK
from dockwright.distribution.client import RegistryClient, RegistryError
from dockwright.distribution.endpoint import endpoints
from dockwright.distribution.load import load_archive
from dockwright.distribution.pull import Options as PullOptions
from dockwright.distribution.relay import Outcome, relay
from dockwright.distribution.save import plan_save, write_archive
from dockwright.errors import InvalidParameter, SystemError_, Unauthorized
from dockwright.image import config as cfg
from dockwright.image.reference import Reference, parse_normalized
from dockwright.store.pump import consume_in_thread

Done = Callable[[str, str], None]  # (image id, familiar reference) once a transfer finished


@dataclass
class Distribution:
    stores: pull.Stores
    insecure: tuple[str, ...] = ()
    mirrors: tuple[str, ...] = ()
    parallel: int = 3

    async def pull(self, image: str, tag: str | None, platform: str | None,
                   auth_header: str | None, done: Done | None = None
                   ) -> AsyncGenerator[pg.Message, None]:  # fmt: skip
        """`POST /images/create?fromImage=`: docker's pull messages, last the Status line.

        Without a tag (in `image` or `tag`) every tag of the repository is pulled, as dockerd.
        """
        ref = pull_reference(image, tag)
        opts = pull.Options(manifest.parse_platform(platform, cfg.host_arch()),
                            auth.decode_auth_header(auth_header), self.insecure, self.mirrors,
                            self.parallel)  # fmt: skip
        refs = [ref] if ref.tag or ref.digest else await asyncio.to_thread(pull.all_tags, ref, opts)
        changed = False
        for one in refs:
            outcome = Outcome()
            async for msg in self._pull_one(one, opts, outcome):
                yield msg
            image_id, one_changed = outcome.value
            changed = changed or one_changed
            if done is not None:
                done(image_id, one.familiar())
        what = "Downloaded newer image" if changed else "Image is up to date"
        yield pg.status(f"Status: {what} for {ref.familiar()}")

    async def _pull_one(self, ref: Reference, opts: PullOptions,
                        outcome: Outcome) -> AsyncGenerator[pg.Message, None]:  # fmt: skip
        resolved = await asyncio.to_thread(pull.resolve, ref, opts)
        yield pg.status(f"Pulling from {ref.path}", ref.tag or ref.digest, detail=False)
        async for msg in relay(lambda report, cancel: pull.fetch(
                resolved, self.stores, report, cancel, self.parallel), outcome):  # fmt: skip
            yield msg
        yield pg.status(f"Digest: {resolved.digest}")

    async def push(self, name: str, tag: str | None, auth_header: str | None,
                   done: Done | None = None) -> AsyncGenerator[pg.Message, None]:  # fmt: skip
        """`POST /images/{name}/push`: docker's push messages, last the digest line."""
        ref = parse_normalized(name)
        if tag:
            ref = ref.with_tag(tag)
        creds = auth.decode_auth_header(auth_header)
        job = await asyncio.to_thread(push.prepare, self.stores, ref, creds, self.insecure)
        yield pg.status(f"The push refers to repository [{ref.name}]", detail=False)
        for tagged in job.refs:
            outcome = Outcome()
            async for msg in relay(lambda report, cancel, t=tagged: push.run(  # type: ignore[misc]
                    job, t, self.stores, report, cancel, self.parallel), outcome):  # fmt: skip
                yield msg
            if done is not None:
                done(job.images[tagged], tagged.familiar())

    async def login(self, body: object) -> dict[str, str]:
        """`POST /auth`: check the credentials against the registry's /v2/ challenge."""
        if not isinstance(body, dict):
            raise InvalidParameter("invalid auth config: expected a json object")
        server = str(body.get("serveraddress") or "docker.io")
        domain = login_domain(server)
        creds = auth.credentials_from_json(body)
        ep = endpoints(domain, self.insecure)[-1]
        client = RegistryClient(ep, "", creds, "")
        try:
            await asyncio.to_thread(client.login)
        except RegistryError as exc:
            if exc.status == 401:
                raise Unauthorized(f"login attempt to {ep.base}/v2/ failed with status: "
                                   "401 Unauthorized") from None  # fmt: skip
            raise SystemError_(f"login to {server} failed: {exc.message}") from None
        except OSError as exc:
            raise SystemError_(str(exc)) from None
        return {"Status": "Login Succeeded", "IdentityToken": ""}

    async def save(self, names: list[str]) -> AsyncGenerator[bytes, None]:
        """`docker save`: the archive's bytes; unknown names fail before the first chunk."""
        await asyncio.to_thread(plan_save, self.stores, names)
        with tempfile.TemporaryFile(dir=self.stores.content.root) as spool:
            await asyncio.to_thread(write_archive, self.stores, names, spool)
            spool.seek(0)
            while data := await asyncio.to_thread(spool.read, CHUNK):
                yield data

    async def load(self, chunks: AsyncIterable[bytes]) -> list[str]:
        """`docker load`: docker's "Loaded image: …" lines."""
        return await consume_in_thread(chunks, lambda it: load_archive(self.stores, it))


def pull_reference(image: str, tag: str | None) -> Reference:
    """fromImage + tag as dockerd combines them (a tag of "sha256:…" is a digest); neither a
    tag nor a digest means all tags."""
    ref = parse_normalized(image)
    if tag and tag.startswith("sha256:"):
        return parse_normalized(f"{ref.name}@{tag}")
    return ref.with_tag(tag) if tag else ref


def login_domain(server: str) -> str:
    """The registry domain of a `docker login` server address (a URL or host[:port])."""
    host = server.split("://", 1)[-1].split("/", 1)[0]
    if host in ("index.docker.io", "registry-1.docker.io", "docker.io", ""):
        return "docker.io"
    return host

"""A server image run as a throwaway container through the docker SDK (imported lazily).

The image must serve c2s on container port 5222; accounts come from the options (``--account``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tigase_py.compat_tests.peers.common import START_TIMEOUT, PeerError, free_port, wait_for_port
from tigase_py.compat_tests.target import Target


class DockerUnavailable(PeerError):
    """The docker SDK is not installed or no Docker engine answers."""


def engine() -> Any:
    try:
        import docker  # type: ignore[import-not-found]
    except ImportError:
        raise DockerUnavailable("the docker SDK is not installed (pip install docker)") from None
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        raise DockerUnavailable(f"no Docker engine is reachable: {exc}") from None
    return client


@contextlib.contextmanager
def running(image: str, template: Target, timeout: float = START_TIMEOUT * 3) -> Iterator[Target]:
    """Run ``image`` with its 5222 on a free loopback port; yield ``template`` pointed at it."""
    client = engine()
    port = free_port()
    container = client.containers.run(image, detach=True, remove=True, ports={"5222/tcp": ("127.0.0.1", port)})
    try:
        wait_for_port(port, None, None, timeout)
        template.host, template.port = "127.0.0.1", port
        template.name = template.name or image
        yield template
    finally:
        with contextlib.suppress(Exception):
            container.stop(timeout=5)

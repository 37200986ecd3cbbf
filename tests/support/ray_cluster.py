"""A real Ray cluster on 127.0.0.1 for the tests and benchmarks: a head node and more nodes
joined with ``ray start --address``, each its own raylet with its own CPUs, as on separate
machines (they share this machine's disk, as cluster nodes share a file system)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from tests.support.server import free_port

RAY = str(Path(sys.executable).parent / "ray")


class LocalRayCluster:
    """``nodes`` Ray nodes with ``cpus`` CPUs each, with token authentication (Ray's default for
    new clusters): :attr:`env` is what a driver needs to join. :meth:`stop` ends every Ray
    process on this machine."""

    def __init__(self, nodes: int = 2, cpus: int = 1, object_store_mb: int = 100) -> None:
        self.nodes, self.cpus, self.object_store_mb = nodes, cpus, object_store_mb
        self.port = free_port()
        self.node_ports: list[int] = []
        self._dir = tempfile.TemporaryDirectory(prefix="callscope-ray-")
        token = Path(self._dir.name) / "auth_token"
        token.write_text(secrets.token_hex(32))
        token.chmod(0o600)
        #: Environment for every process of this cluster and its drivers.
        self.env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))

    def env_for_driver(self) -> dict:
        """The variables a driver process needs to join this cluster (token authentication)."""
        return {k: self.env[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH")}

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _start(self, *args: str) -> None:
        node_port = free_port()
        cmd = [RAY, "start", "--node-ip-address", "127.0.0.1", "--num-cpus", str(self.cpus), "--num-gpus", "0",
               "--object-store-memory", str(self.object_store_mb * 1024 * 1024), "--node-manager-port", str(node_port),
               "--disable-usage-stats", *args]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=self.env)
        if out.returncode != 0:
            raise RuntimeError(f"ray start failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
        self.node_ports.append(node_port)

    def start(self) -> "LocalRayCluster":
        self._start("--head", "--port", str(self.port), "--include-dashboard", "false")
        for _ in range(self.nodes - 1):
            self._start("--address", self.address)
        deadline = time.time() + 60
        while time.time() < deadline:  # every node registered
            status = subprocess.run([RAY, "status", "--address", self.address], capture_output=True, text=True,
                                    env=self.env)
            if status.stdout.count(" node_") >= self.nodes:
                return self
            time.sleep(1)
        raise TimeoutError(f"the Ray nodes did not all join: {status.stdout[-2000:]}")

    def raylet_pid(self, node: int) -> int:
        """The raylet process of node ``node`` (0: the head)."""
        flag = f"--node_manager_port={self.node_ports[node]}"
        for p in psutil.process_iter(["cmdline"]):
            if any(a == flag for a in p.info["cmdline"] or []):
                return p.pid
        raise LookupError(f"no raylet for node {node}")

    def actor_processes(self, node: int, class_name: str) -> list[psutil.Process]:
        """The live worker processes of node ``node`` running an actor of class ``class_name``
        (Ray names their process ``ray::ClassName``…)."""
        raylet = psutil.Process(self.raylet_pid(node))
        found = []
        for child in raylet.children(recursive=False):
            try:
                title = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if title.startswith(f"ray::{class_name}"):
                found.append(child)
        return found

    def stop(self) -> None:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120, env=self.env)
        self._dir.cleanup()

    def __enter__(self) -> "LocalRayCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

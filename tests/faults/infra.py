"""A Kafka and a Redis of the fault suite's own, started with deploy/local/stack.sh.

The fault suite kills and wipes its infrastructure, so it never touches the
stack other tests and developers use: it runs `stack.sh` under a temporary
var dir and on free ports of its own, and kills only processes whose pid
file lies in that var dir and whose command line names that dir or port.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from tests.e2e.harness import Stack

ROOT = Path(__file__).resolve().parents[2]
STACK_SH = ROOT / "deploy" / "local" / "stack.sh"
PARTS = ("kafka", "redis")


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (held open together while picked)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _gone(pid: int) -> bool:
    """The process ended (a zombie that nobody reaped yet counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


class DedicatedInfra:
    """Kafka (one node, or a 3-node KRaft cluster) and one Redis server under
    a throw-away var dir."""

    def __init__(self, var_dir: Path | None = None, *, kafka_nodes: int = 1) -> None:
        self.var_dir = var_dir or Path(tempfile.mkdtemp(prefix="microcred-faults-"))
        self.kafka_nodes = kafka_nodes
        ports = free_ports(1 + 2 * kafka_nodes)
        self.redis_port = ports[0]
        self.kafka_ports = ports[1::2]  # node n at index n - 1
        node_ports: dict[str, str] = {}
        for n, (port, controller) in enumerate(zip(ports[1::2], ports[2::2], strict=True), 1):
            suffix = "" if n == 1 else f"_{n}"
            node_ports[f"MICROCRED_KAFKA_PORT{suffix}"] = str(port)
            node_ports[f"MICROCRED_KAFKA_CONTROLLER_PORT{suffix}"] = str(controller)
        self.env = {
            **os.environ,
            "MICROCRED_VAR_DIR": str(self.var_dir),
            **node_ports,
            "MICROCRED_KAFKA_NODES": str(kafka_nodes),
            "MICROCRED_REDIS_PORT": str(self.redis_port),
            # stack.sh probes Kafka with this interpreter (a worktree has no .venv).
            "MICROCRED_PYTHON": os.environ.get("MICROCRED_PYTHON", sys.executable),
            # The jar cache: the caller's when set, else the checkout's usual
            # var/cache (never one per throw-away var dir).
            "MICROCRED_KAFKA_LIBS": os.environ.get(
                "MICROCRED_KAFKA_LIBS", str(ROOT / "var" / "cache" / "kafka-libs")
            ),
            "MICROCRED_MAVEN_REPO": os.environ.get(
                "MICROCRED_MAVEN_REPO", str(ROOT / "var" / "cache" / "maven")
            ),
        }
        self.log_path = self.var_dir / "stack.out"

    @property
    def kafka_bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.kafka_ports)

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    # -- stack.sh -------------------------------------------------------------

    def _stack(self, command: str, *parts: str, timeout: float = 180) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"\n$ stack.sh {command} {' '.join(parts)}\n".encode())
            log.flush()
            result = subprocess.run(
                [str(STACK_SH), command, *parts],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(
                f"stack.sh {command} {' '.join(parts)} failed ({result.returncode}):\n"
                + self.log_tail()
            )

    def up(self, *parts: str) -> None:
        """Start (or, when running, just wait for) these parts; both by default."""
        self._stack("up", *(parts or ("redis", "kafka")))

    def down(self) -> None:
        self._stack("down", "kafka", "redis")

    def services(self, name: str) -> Stack:
        """Fresh services (not started) on this Kafka and Redis, both (re)started
        first if a fault left them down: own topics, Redis prefix and keys."""
        self.up()
        return Stack(
            workdir=self.var_dir / "services" / name,
            kafka_bootstrap=self.kafka_bootstrap,
            redis_url=self.redis_url,
        )

    def kill_node(self, node: int) -> None:
        """kill -9 one node of the Kafka cluster (stack.sh kill-node)."""
        self._stack("kill-node", str(node))

    def up_node(self, node: int) -> None:
        """Start that node again; returns once it is back in sync (stack.sh up-node)."""
        self._stack("up-node", str(node))

    # -- faults ---------------------------------------------------------------

    def pid(self, part: str) -> int | None:
        """The pid of this infra's `part` when it runs; None otherwise.

        Only a pid from this var dir's pid file whose command line is this
        infra's own process (its var dir for Kafka, its port for Redis)."""
        name = part if part != "kafka" or self.kafka_nodes == 1 else "kafka-1"
        pid_file = self.var_dir / "run" / f"{name}.pid"
        try:
            pid = int(pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError, ValueError):
            return None
        if _gone(pid):
            return None
        mine = (
            "kafka.Kafka" in cmdline and str(self.var_dir) in cmdline
            if part == "kafka"
            else "redis-server" in cmdline and f":{self.redis_port}" in cmdline
        )
        return pid if mine else None

    def kill9(self, part: str) -> int:
        """SIGKILL this infra's `part` and wait until it is gone; its pid."""
        pid = self.pid(part)
        if pid is None:
            raise RuntimeError(f"the fault suite's {part} is not running")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not _gone(pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{part} (pid {pid}) still alive 30 s after SIGKILL")
            time.sleep(0.05)
        return pid

    def flushall(self) -> None:
        """FLUSHALL on this infra's Redis (never another one)."""
        assert self.pid("redis") is not None, "the fault suite's redis is not running"
        with redis.Redis(host="127.0.0.1", port=self.redis_port) as client:
            client.flushall()

    # -- clean-up -------------------------------------------------------------

    def close(self) -> None:
        """Stop both parts (SIGKILL what does not stop) and delete the var dir."""
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.down()
        for part in PARTS:
            if self.pid(part) is not None:
                self.kill9(part)
        for node in range(2, self.kafka_nodes + 1):
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.kill_node(node)
        shutil.rmtree(self.var_dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

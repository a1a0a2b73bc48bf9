"""Starting `community-hub run` (what `make run` does) as a real process on free loopback ports, for the
end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# controllers, their control endpoints, the camera and its control, the county receiver, the MQTT county's consumer
# read API and its broker, the hub's own ANPR receiver (Dahua), the Frigate lane's broker
DEMO_PORT_OFFSETS = (0, 1, 20, 21, 40, 41, 50, 51, 52, 53, 54)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block() -> int:
    """A base port such that every port the demo derives from it is free."""
    for _ in range(100):
        base = free_port() % 50000 + 10000
        sockets = []
        try:
            for offset in DEMO_PORT_OFFSETS:
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free block of ports")


async def read_until(stream: asyncio.StreamReader, pattern: str, timeout: float, seen: list[str]) -> None:
    """Read the demo's output line by line until one contains ``pattern`` (fail with the output otherwise)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = await asyncio.wait_for(stream.readline(), max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        if not line:
            break
        seen.append(line.decode(errors="replace"))
        if pattern in seen[-1]:
            return
    raise AssertionError(f"{pattern!r} not printed; output was:\n{''.join(seen)}")


async def start_demo(port: int, demo_dir: Path, modbus: int, *, stdin: int = subprocess.PIPE,
                     extra: tuple[str, ...] = ()) -> asyncio.subprocess.Process:
    """`community-hub run` with its output piped; stdin (the simulator console) piped unless given; ``extra``
    arguments after the others (e.g. ``("--uplink", "mqtt")``)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devkit.cli", "run", "--port", str(port), "--demo-dir", str(demo_dir),
        "--modbus-port", str(modbus), *extra,
        cwd=REPO, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def stop_demo(process: asyncio.subprocess.Process) -> None:
    """Ctrl-C, as a user stops `make run`; killed, and the TimeoutError raised, if it does not stop in 90 s."""
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), 90)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise


@dataclass
class Demo:
    """A running demo: Home Assistant's base URL, the owner's login, the console and the ports."""

    base: str
    username: str
    password: str
    token: str
    modbus: int
    process: asyncio.subprocess.Process
    output: list[str]

    async def console(self, line: str) -> None:
        """Type a simulator command (e.g. ``link 2 down``) on the demo's console."""
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()


@contextlib.asynccontextmanager
async def running_demo(demo_dir: Path, timeout: float = 300) -> AsyncIterator[Demo]:
    """The demo up and ready (its 'Ctrl-C stops everything' line printed); stopped afterwards."""
    port, modbus = free_port(), free_port_block()
    process = await start_demo(port, demo_dir, modbus)
    assert process.stdout is not None
    seen: list[str] = []
    try:
        await read_until(process.stdout, "Ctrl-C stops everything", timeout, seen)
        output = "".join(seen)
        password = re.search(r"with password: (\S+)", output)
        user = re.search(r"Log in as '([^']+)' with password", output)
        assert password, output
        yield Demo(
            base=f"http://127.0.0.1:{port}", username=user.group(1) if user else "manager",
            password=password.group(1), token=(demo_dir / "token").read_text().strip(), modbus=modbus,
            process=process, output=seen,
        )
    finally:
        await stop_demo(process)

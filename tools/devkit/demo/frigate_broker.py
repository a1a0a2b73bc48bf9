"""The demo's MQTT broker for its Frigate lane: a local Mosquitto on 127.0.0.1 that Frigate (or anyone playing
Frigate) publishes its ``frigate/tracked_object_update`` plate reads to, and the community hub subscribes to.

Started only when Mosquitto is installed (``make run`` works without it; the Frigate lane is then left out). It
lives in ``<demo dir>/frigate-mqtt/``: its configuration, ACL, password file and log. Two users, each with a
random password kept in ``<demo dir>/car-park.json`` (0600): ``frigate`` may write ``frigate/#`` only (what a
Frigate server is given), ``community-hub`` may read ``frigate/#`` only (what the hub's lane is given). No anonymous
access. Plain MQTT, on loopback only: a real installation puts Frigate and the hub on ``mqtts://`` (docs/vehicles.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import socket
import subprocess
import time
from pathlib import Path

from devkit.county.broker import mosquitto_binary

PUBLISHER = "frigate"
SUBSCRIBER = "community-hub"
TOPIC_PREFIX = "frigate"


def mosquitto_passwd_binary() -> str | None:
    """``mosquitto_passwd`` beside the broker (it comes in the same package)."""
    binary = mosquitto_binary()
    if binary is None:
        return None
    for candidate in (Path(binary).with_name("mosquitto_passwd"), Path("/usr/bin/mosquitto_passwd")):
        if candidate.exists():
            return str(candidate)
    return None


class DemoFrigateBroker:
    """Mosquitto for the Frigate lane: :meth:`start` before Home Assistant, :meth:`stop` after it."""

    def __init__(self, demo_dir: Path, port: int) -> None:
        self.folder = demo_dir / "frigate-mqtt"
        self.port = port
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @staticmethod
    def available() -> bool:
        """Whether Mosquitto (and its password tool) is installed."""
        return mosquitto_binary() is not None and mosquitto_passwd_binary() is not None

    def _configure(self, passwords: dict[str, str]) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        passwd = self.folder / "passwd"
        passwd.unlink(missing_ok=True)
        tool = mosquitto_passwd_binary()
        assert tool is not None
        for n, (user, password) in enumerate(passwords.items()):
            subprocess.run([tool, "-b", *(["-c"] if n == 0 else []), str(passwd), user, password],
                           check=True, capture_output=True)
        passwd.chmod(0o600)
        acl = self.folder / "acl"
        acl.write_text(f"user {PUBLISHER}\ntopic write {TOPIC_PREFIX}/#\n\n"
                       f"user {SUBSCRIBER}\ntopic read {TOPIC_PREFIX}/#\n")
        acl.chmod(0o600)
        conf = self.folder / "mosquitto.conf"
        conf.write_text(
            "# Written by `community-hub run` on every start: the demo's Frigate broker (see frigate_broker.py).\n"
            f"listener {self.port} 127.0.0.1\n"
            # Started as root, Mosquitto would switch to its own user, who cannot read this folder: stay who we are.
            f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
            "allow_anonymous false\n"
            f"password_file {passwd}\n"
            f"acl_file {acl}\n"
            "persistence false\n"
            f"log_dest file {self.folder / 'mosquitto.log'}\n"
            "log_type error\nlog_type warning\nlog_type notice\n")
        return conf

    async def start(self, passwords: dict[str, str], timeout_s: float = 10.0) -> None:
        """Write the configuration with these users' passwords and start the broker; RuntimeError if it does not
        listen within ``timeout_s``."""
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("Mosquitto is not installed")
        conf = await asyncio.to_thread(self._configure, passwords)
        self.process = await asyncio.create_subprocess_exec(binary, "-c", str(conf), stdout=subprocess.DEVNULL,
                                                            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                break
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return
            await asyncio.sleep(0.1)
        await self.stop()
        log = self.folder / "mosquitto.log"
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
        raise RuntimeError(f"Mosquitto did not listen on 127.0.0.1:{self.port}" + (f": {' / '.join(tail)}"
                                                                                   if tail else ""))

    async def stop(self) -> None:
        """Stop the broker (it is ours: by its own process handle)."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()

"""A host of the test's own on a private network: a Linux network namespace joined to this one by a veth pair.

A server run inside it (tests/support/private_services.py) is reached at `address`, and `cut_off()` makes that
host vanish as a crashed machine or a network partition does: nothing it sends comes back (a blackhole route in
the namespace), so a peer's packets go unanswered, with neither a reset nor an error, until its own timeouts say
so. Stopping a server cannot show this: its kernel closes the connections. Needs root (CAP_NET_ADMIN) and
iproute2; the namespace and its link are removed when the block ends.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

_numbers = itertools.count()


@dataclass(frozen=True)
class IsolatedHost:
    name: str
    address: str  # the namespace's end of the link
    peer: str  # this namespace's end

    @property
    def run_inside(self) -> list[str]:
        """The prefix that runs a command in the namespace."""
        return ["ip", "netns", "exec", self.name]

    def cut_off(self) -> None:
        _ip("-n", self.name, "route", "add", "blackhole", f"{self.peer}/32")

    def reconnect(self) -> None:
        _ip("-n", self.name, "route", "del", "blackhole", f"{self.peer}/32")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _available() -> bool:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


@contextmanager
def isolated_host() -> Iterator[IsolatedHost]:
    if not _available():
        # A failure, not a skip: a skipped partition test would let the silent-host bound regress unseen.
        # `make test` runs as root here and installs iproute2 (make fault-deps).
        pytest.fail("network namespaces need root with CAP_NET_ADMIN and iproute2 (`ip`, `unshare`)")
    n = next(_numbers)
    tag = f"{os.getpid() % 10000}x{n}"
    subnet = f"10.{250 - n % 50}.{os.getpid() % 250}"
    host = IsolatedHost(f"entryway-{tag}", f"{subnet}.2", f"{subnet}.1")
    outside, inside = f"ewo{tag}", f"ewi{tag}"  # interface names: at most 15 characters
    try:
        _ip("netns", "add", host.name)
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", host.name)
        _ip("addr", "add", f"{host.peer}/30", "dev", outside)
        _ip("link", "set", outside, "up")
        _ip("-n", host.name, "addr", "add", f"{host.address}/30", "dev", inside)
        _ip("-n", host.name, "link", "set", inside, "up")
        _ip("-n", host.name, "link", "set", "lo", "up")
        yield host
    finally:
        subprocess.run(["ip", "link", "del", outside], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", host.name], capture_output=True, timeout=30)

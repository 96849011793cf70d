"""An autouse fixture for detector tests: every DNS lookup and connection fails at once, as offline.

Import it into a test module (`from offline_network import network_unreachable`) to apply it there.
"""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(autouse=True)
def network_unreachable(monkeypatch):
    """Make the machine look offline, so a download attempt fails fast instead of hanging or succeeding."""

    def unreachable(*args, **kwargs):
        raise OSError("network unreachable (blocked by tests/detectors/offline_network.py)")

    monkeypatch.setattr(socket, "getaddrinfo", unreachable)
    monkeypatch.setattr(socket, "create_connection", unreachable)
    monkeypatch.setattr(socket.socket, "connect", unreachable)

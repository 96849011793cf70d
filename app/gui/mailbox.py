"""A one-slot mailbox between threads: the writer replaces the item, the reader takes the newest one.

The worker puts every processed frame here and signals the window only when the box was empty, so a slow
screen never builds a queue of stale frames: it shows the newest one when it gets to it.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    """Holds at most one item; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: T | None = None

    def put(self, item: T) -> bool:
        """Store ``item`` in place of any unread one; True when the box was empty (notify the reader)."""
        with self._lock:
            was_empty, self._item = self._item is None, item
        return was_empty

    def take(self) -> T | None:
        """The newest item, or None; the box is empty afterwards."""
        with self._lock:
            item, self._item = self._item, None
        return item

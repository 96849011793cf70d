"""Before Qt starts: is there a display, and will its xcb platform plugin load? If not, say what fixes it.

Qt 6's xcb plugin (the X11 one, Linux's default) needs system libraries that PySide6's wheel does not
bundle and a fresh Debian/Ubuntu lacks, and Qt then aborts with "Could not load the Qt platform plugin
'xcb' ... Reinstalling the application may fix this problem", naming neither cause nor fix. This module
loads those libraries with the dynamic loader first (no Qt import) and turns a failure into one line.
Without any display (no ``DISPLAY``, no ``WAYLAND_DISPLAY``: a server, an SSH session) Qt aborts with the same
message, so that is said first (:func:`platform_problem`).
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Mapping

XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
"""Shared libraries the xcb plugin of PySide6 6.x links (``ldd libqxcb.so``) -> the Debian/Ubuntu package
that ships each. The first three are the ones a fresh desktop install usually lacks."""

HEADLESS_HINT = "QT_QPA_PLATFORM=offscreen"
DISPLAY_VARIABLES = {"": ("DISPLAY", "WAYLAND_DISPLAY"), "xcb": ("DISPLAY",), "wayland": ("WAYLAND_DISPLAY",)}
"""QT_QPA_PLATFORM (before any ``:option``; "" when unset: Qt's default) -> the variables naming a display it
can use. Other platforms (offscreen, minimal, vnc, eglfs, ...) need none."""


def _platform(environ: Mapping[str, str]) -> str:
    """The QT_QPA_PLATFORM plugin name asked for, "" when unset."""
    return environ.get("QT_QPA_PLATFORM", "").split(":", 1)[0]


def uses_xcb(environ: Mapping[str, str]) -> bool:
    """Whether Qt would start its xcb plugin: QT_QPA_PLATFORM unset or "xcb", and an X display to talk to.

    With QT_QPA_PLATFORM unset on a Wayland session (WAYLAND_DISPLAY set) Qt may use its Wayland plugin,
    so nothing is checked there.
    """
    platform = _platform(environ)
    if platform not in ("", "xcb") or not environ.get("DISPLAY"):
        return False
    return platform == "xcb" or not environ.get("WAYLAND_DISPLAY")


Loader = Callable[[str], object]
"""Opens a shared library by soname, raising OSError when it cannot (``ctypes.CDLL``)."""


def _loads(soname: str, load: Loader) -> bool:
    try:
        load(soname)
    except OSError:
        return False
    return True


def missing_xcb_libraries(load: Loader | None = None) -> list[str]:
    """The sonames of :data:`XCB_LIBRARIES` that ``load`` (default ``ctypes.CDLL``) cannot open."""
    load = load or ctypes.CDLL
    return [soname for soname in XCB_LIBRARIES if not _loads(soname, load)]


def missing_display(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The variables of which one must name a display for the Qt platform asked for, when none does; ()
    when one does, the platform needs none, or not on Linux (other systems always have their window
    system)."""
    variables = DISPLAY_VARIABLES.get(_platform(environ), ())
    if not sys.platform.startswith("linux") or any(environ.get(name) for name in variables):
        return ()
    return variables


def platform_problem(environ: Mapping[str, str], load: Loader | None = None) -> str | None:
    """One line saying why Qt could not open a window and what to do (no display, or :func:`xcb_problem`);
    None when nothing is wrong that can be seen before Qt starts."""
    missing = missing_display(environ)
    if missing:
        return (
            f"no display to open a window on ({' and '.join(missing)} not set): start it from a desktop "
            f"session, use 'main.py run' for work without a window, or set {HEADLESS_HINT}"
        )
    return xcb_problem(environ, load)


def xcb_problem(environ: Mapping[str, str], load: Loader | None = None) -> str | None:
    """One line naming the missing libraries, their packages and the command that installs them; None when
    Qt would not use xcb (or not on Linux) or every library loads."""
    if not sys.platform.startswith("linux") or not uses_xcb(environ):
        return None
    missing = missing_xcb_libraries(load)
    if not missing:
        return None
    packages = " ".join(XCB_LIBRARIES[soname] for soname in missing)
    return (
        f"Qt's X11 (xcb) platform plugin cannot load: missing system libraries {', '.join(missing)}; "
        f"install them with: sudo apt-get install {packages} (Debian/Ubuntu), or run without a display "
        f"with {HEADLESS_HINT}"
    )

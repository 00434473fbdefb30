"""Before opening a real window on Linux: are the system libraries of Qt's xcb plugin installed?

Without them Qt aborts at start with "Could not load the Qt platform plugin xcb", which tells a clinic's
IT nothing useful. Offscreen and non-Linux runs need nothing here.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

# library name for find_library -> Debian/Ubuntu package that provides it
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "EGL": "libegl1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "fontconfig": "libfontconfig1",
}


def missing_packages() -> list[str]:
    return [package for name, package in XCB_LIBRARIES.items() if ctypes.util.find_library(name) is None]


def main() -> int:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or platform in ("offscreen", "minimal", "wayland"):
        return 0
    missing = missing_packages()
    if missing:
        print(
            "The desktop window needs system libraries that are not installed:\n"
            f"  sudo apt-get install {' '.join(missing)}\n"
            "(or run offscreen: QT_QPA_PLATFORM=offscreen)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Smoke test of the PyInstaller bundle (issue 8): `make package-smoke`.

Runs the built executable with --version and self-test (offscreen, with a throwaway HOME and XDG
folders so it never touches a real user's data), then checks the bundle folder's size against a budget.
Exit code 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Measured 2026-11 on Linux x86_64 (PySide6 6.11.3, Python 3.11): 248.7 MiB. Budget about 1.25x.
SIZE_BUDGET_MIB = 310
EXPECTED_VERSION_PREFIX = "withdrawal monitor "


def folder_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def run(executable: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(executable), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def main(argv: list[str]) -> int:
    default = Path("build/dist/withdrawal-monitor/withdrawal-monitor")
    executable = Path(argv[1]) if len(argv) > 1 else default
    if sys.platform == "win32" and executable.suffix != ".exe":
        executable = executable.with_suffix(".exe")
    results: list[tuple[str, bool, str]] = []
    if not executable.is_file():
        print(f"FAIL: no executable at {executable} (run `make package` first)")
        return 1
    with tempfile.TemporaryDirectory(prefix="monitor-smoke-") as home:
        env = {
            **os.environ,
            "HOME": home,
            "USERPROFILE": home,  # Windows
            "APPDATA": str(Path(home) / "AppData" / "Roaming"),
            "LOCALAPPDATA": str(Path(home) / "AppData" / "Local"),
            "XDG_DATA_HOME": str(Path(home) / "data"),
            "XDG_CONFIG_HOME": str(Path(home) / "config"),
            "XDG_CACHE_HOME": str(Path(home) / "cache"),
            "XDG_STATE_HOME": str(Path(home) / "state"),
            "QT_QPA_PLATFORM": "offscreen",
        }
        env.pop("MONITOR_USER", None)
        version = run(executable, "--version", env=env)
        out = version.stdout.strip()
        ok = version.returncode == 0 and out.startswith(EXPECTED_VERSION_PREFIX)
        results.append(("--version", ok, out or version.stderr.strip()[-300:]))

        test = run(executable, "self-test", env=env)
        line = next((s for s in test.stdout.splitlines() if s.startswith("self-test ok")), "")
        ok = test.returncode == 0 and bool(line)
        detail = line or f"exit {test.returncode}: {(test.stderr or test.stdout).strip()[-500:]}"
        results.append(("self-test", ok, detail))
        # The window and taskbar icon: the PNG sizes packed under icons/hicolor (monitor.ui.app_icon).
        icon = "icon 16-256 px (7 sizes)" in line
        results.append(("window icon", icon, line.rpartition(", ")[2] if line else "no self-test line"))

    size = folder_size(executable.parent)
    mib = size / (1024 * 1024)
    results.append(("bundle size", mib <= SIZE_BUDGET_MIB, f"{mib:.1f} MiB (budget {SIZE_BUDGET_MIB} MiB)"))

    for name, ok, detail in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name:12} {detail}")
    passed = all(ok for _name, ok, _detail in results)
    print(f"smoke test: {'PASS' if passed else 'FAIL'} ({sum(ok for _n, ok, _d in results)}/{len(results)})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

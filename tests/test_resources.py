"""The desktop integration resources (issue 8): app icon, .desktop entry and AppStream metainfo."""

from __future__ import annotations

import configparser
import os
import shutil
import struct
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
LINUX = ROOT / "resources" / "linux"
APP_ID = "org.withdrawalmonitor.WithdrawalMonitor"
ICON_NAME = "withdrawal-monitor"
SVG = ICONS / f"{ICON_NAME}.svg"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
SIZES = (16, 24, 32, 48, 64, 128, 256)
SVG_NS = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, the first chunk after the signature."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert header[12:16] == b"IHDR", f"{path} has no IHDR chunk first"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def read_desktop() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_svg_is_xml_with_a_256_viewbox_and_no_text() -> None:
    root = ET.parse(SVG).getroot()
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox", "").split() == ["0", "0", "256", "256"]
    assert root.find(f".//{SVG_NS}text") is None


@pytest.mark.parametrize("size", SIZES)
def test_png_renders_have_the_exact_size(size: int) -> None:
    path = ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"
    assert path.is_file(), f"missing {path.relative_to(ROOT)}; run resources/icons/render.py"
    assert png_size(path) == (size, size)


def test_desktop_entry_has_the_required_keys() -> None:
    entry = read_desktop()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Withdrawal Monitor"
    for key in ("GenericName", "Comment", "Exec", "StartupWMClass", "Keywords"):
        assert entry.get(key, "").strip(), f"{key} is missing or empty"
    assert entry["Terminal"] == "false"
    assert entry["Exec"].split()[0] == ICON_NAME


def test_desktop_icon_names_the_png_files() -> None:
    icon = read_desktop()["Icon"]
    # A themed icon name, not a path or a file name with an extension.
    assert "/" not in icon and not icon.endswith((".png", ".svg"))
    for size in SIZES:
        assert (ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{icon}.png").is_file()
    assert (ICONS / f"{icon}.svg").is_file()


def test_desktop_lists_end_in_a_semicolon_and_categories_are_valid() -> None:
    entry = read_desktop()
    for key in ("Categories", "Keywords"):
        assert entry[key].endswith(";"), f"{key} must end with ';'"
    categories = entry["Categories"].rstrip(";").split(";")
    # MedicalSoftware is an additional category: the spec wants Science or Education beside it.
    assert "MedicalSoftware" in categories
    assert {"Science", "Education"} & set(categories)


def test_metainfo_id_and_launchable_match_the_desktop_file() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component"
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == DESKTOP.name.removesuffix(".desktop")
    launchable = root.find("launchable")
    assert launchable is not None
    assert launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    assert root.findtext("provides/binary") == read_desktop()["Exec"].split()[0]


def test_metainfo_licences_releases_and_screenshots() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("metadata_license") == "CC0-1.0"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert root.findtext("project_license") == project["license"]
    versions = [release.get("version") for release in root.iterfind("releases/release")]
    assert project["version"] in versions
    images = [image.text or "" for image in root.iterfind("screenshots/screenshot/image")]
    assert images and all(image.startswith("https://") for image in images)
    for image in images:
        # Each screenshot URL names a picture kept in docs/.
        assert (ROOT / "docs" / image.rsplit("/", 1)[-1]).is_file()
    content_rating = root.find("content_rating")
    assert content_rating is not None and content_rating.get("type") == "oars-1.1"


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


# The validators come from distribution packages: a developer's machine may lack them (skipped, said
# so); CI installs both (.ci/run), so there a missing one fails instead of skipping.
OUTSIDE_CI = os.environ.get("CI") != "true"


@pytest.mark.skipif(
    OUTSIDE_CI and shutil.which("appstreamcli") is None,
    reason="appstreamcli is not installed here (outside CI, which installs it)",
)
def test_appstreamcli_validates_the_metainfo() -> None:
    result = run_tool("appstreamcli", "validate", "--no-net", str(METAINFO))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    OUTSIDE_CI and shutil.which("desktop-file-validate") is None,
    reason="desktop-file-validate (desktop-file-utils) is not installed here (outside CI, which installs it)",
)
def test_desktop_file_validate_accepts_the_entry() -> None:
    result = run_tool("desktop-file-validate", str(DESKTOP))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower(), result.stdout


def test_the_window_icon_has_every_rendered_size(qapp: object) -> None:
    from monitor.ui.app_icon import app_icon

    sizes = sorted(size.width() for size in app_icon().availableSizes())
    assert sizes == [16, 24, 32, 48, 64, 128, 256]

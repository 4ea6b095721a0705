"""Where the browser libraries live: installed by tools/install.sh from the npm registry (with
`npm ci` against rackdesign/web/package-lock.json) into a folder outside git, served by the app.

The folder is $PIRACK_WEB_ASSETS, else $XDG_DATA_HOME/pirack/web, else ~/.local/share/pirack/web.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pirack.errors import InputError

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "package.json"
# what the page loads from each package (checked at start, so a half install says so at once)
ENTRY_POINTS = {
    "three": ("build/three.module.js", "examples/jsm/loaders/GLTFLoader.js", "examples/jsm/controls/OrbitControls.js"),
    "svg-pan-zoom": ("dist/svg-pan-zoom.min.js",),
}


def assets_dir() -> Path:
    env = os.environ.get("PIRACK_WEB_ASSETS")
    if env:
        return Path(env)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "pirack" / "web"


def wanted_versions() -> dict[str, str]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))["dependencies"]


def node_modules() -> Path:
    """The installed node_modules folder, checked against package.json: every package at the
    pinned version with the files the page loads. Raises InputError saying how to install."""
    root = assets_dir() / "node_modules"
    fix = "run `bash tools/install.sh` (it installs them with npm from package-lock.json)"
    for name, version in wanted_versions().items():
        meta = root / name / "package.json"
        try:
            have = json.loads(meta.read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError):
            raise InputError(None, None,
                             f"the viewer's JavaScript library '{name}' is not installed in {root}: {fix}") from None
        if have != version:
            raise InputError(None, None, f"{root / name} is version {have}, the viewer needs {version}: {fix}")
        missing = [f for f in ENTRY_POINTS.get(name, ()) if not (root / name / f).is_file()]
        if missing:
            raise InputError(None, None, f"{root / name} lacks {', '.join(missing)}: {fix}")
    return root

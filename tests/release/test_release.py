"""`make release`: the HACS zip carries the library inside the integration, and nothing of it at the top level."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_release() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release_script", REPO / "scripts" / "release.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["release_script"] = module
    spec.loader.exec_module(module)
    return module


release = _load_release()


# Developer tooling (tools/devkit): the demo, simulators, benchmarks, reference receiver, audit command and CLI.
TOOLING = re.compile(
    r"(^|/)(devkit|demo|sims?|bench|receiver)(/|\.py$)|(^|/)(bench_\w+|receiver_\w+|cli|verify_cmd)\.py$"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release.write_zip(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library's wheel, built from a copy of the sources (no build/ left over from an earlier build)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for package in release.LIBRARY_PACKAGES:
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    build = f"from setuptools import build_meta; print(build_meta.build_wheel({str(out)!r}))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}
    result = subprocess.run([sys.executable, "-c", build], cwd=source, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return out / result.stdout.strip().splitlines()[-1]


def test_the_zip_is_named_as_hacs_json_says_and_holds_the_integration_at_its_root(built: Path) -> None:
    hacs = json.loads((REPO / "hacs.json").read_text())
    assert hacs["zip_release"] is True and built.name == hacs["filename"]
    with zipfile.ZipFile(built) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
    assert {"__init__.py", "manifest.json", "config_flow.py", "translations/en.json", "lib/hub/gate.py"} <= names
    assert not any(name.startswith(("hub/", "devices/", "smart_community/")) for name in names)
    assert not any("__pycache__" in name for name in names)
    # Only third-party requirements: the library is inside, not on an index.
    assert not any(r.startswith("smart-community-hub") for r in manifest["requirements"])
    assert "hub" not in manifest["loggers"] and "devices" not in manifest["loggers"]


def test_the_zip_holds_no_developer_tooling(built: Path) -> None:
    with zipfile.ZipFile(built) as archive:
        names = archive.namelist()
    assert [name for name in names if TOOLING.search(name)] == []
    assert "lib/hub/uplink/signing.py" in names  # the receivers' signature check is the library's


def test_the_wheel_holds_the_library_and_no_developer_tooling(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert {"hub/gate.py", "hub/py.typed", "devices/door_controller.py", "devices/py.typed"} <= set(names)
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {"hub", "devices"}
    assert [name for name in names if TOOLING.search(name)] == []
    assert entry_points == []  # community-hub is the devkit's command


def test_the_tooling_pattern_names_what_moved_out() -> None:
    moved = ["hub/cli.py", "hub/demo/run.py", "hub/sims/common.py", "devices/sim/camera.py", "hub/bench/gate.py",
             "hub/faces/bench_faces.py", "hub/journal/bench_accesslog.py", "hub/journal/verify_cmd.py",
             "hub/uplink/bench.py", "hub/uplink/receiver.py", "hub/uplink/receiver_store.py",
             "lib/hub/uplink/receiver_cmd.py", "devkit/cli.py"]
    assert all(TOOLING.search(name) for name in moved)
    kept = ["hub/gate.py", "hub/uplink/signing.py", "lib/devices/camera.py", "hub/faces/liveness.py",
            "custom_components/smart_community/services.py", "translations/en.json"]
    assert not any(TOOLING.search(name) for name in kept)


def test_the_same_sources_give_the_same_zip(built: Path, tmp_path: Path) -> None:
    again = release.write_zip(tmp_path)
    assert again.read_bytes() == built.read_bytes()


def test_the_zip_imports_with_no_top_level_library_on_the_path(built: Path, tmp_path: Path) -> None:
    """Every module in the zip imports as part of custom_components.smart_community, with ``hub`` and ``devices``
    made unimportable (the project's own checkout is on this environment's path, a user's HA has neither)."""
    integration = tmp_path / "config" / "custom_components" / "smart_community"
    integration.mkdir(parents=True)
    (integration.parent / "__init__.py").write_text("")
    with zipfile.ZipFile(built) as archive:
        archive.extractall(integration)
        modules = sorted(
            "custom_components.smart_community." + name[:-3].replace("/", ".").removesuffix(".__init__")
            for name in archive.namelist() if name.endswith(".py")
        )
    probe = f"""
import importlib, sys
sys.path[:] = [p for p in sys.path if p not in ({str(REPO)!r}, '')]
sys.path.insert(0, {str(tmp_path / 'config')!r})
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('hub', 'devices'):
            raise ImportError('top-level library module imported: ' + name)
sys.meta_path.insert(0, Refuse())
for name in {modules!r}:
    importlib.import_module(name)
leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('hub', 'devices'))
assert not leaked, leaked
print(len({modules!r}))
"""
    # Without pytest-cov's variables: coverage would otherwise measure the unpacked copy as project code.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) == len(modules) > 100


def test_imports_become_relative_to_their_place_in_the_zip() -> None:
    source = "from hub.faces.models import X\nfrom devices import camera  # why\ndef f():\n    from  hub import gate\n"
    text = release.rewrite(source, "x.py", ["smart_community", "lib", "hub", "faces"])
    assert text == "from .models import X\nfrom ...devices import camera  # why\ndef f():\n    from  .. import gate\n"
    text = release.rewrite("from hub.gate import G\n", "x.py", ["smart_community"])
    assert text == "from .lib.hub.gate import G\n"


@pytest.mark.parametrize(
    "source",
    ["import hub.gate\n", "import devices\n"],
)
def test_imports_that_cannot_be_rewritten_exactly_stop_the_build(source: str) -> None:
    with pytest.raises(release.ReleaseError, match=r"from \.\.\. import"):
        release.rewrite(source, "x.py", ["smart_community"])


def test_the_manifest_asks_for_what_the_library_needs() -> None:
    """The manifest's requirements are the library's, and its face extra's: Home Assistant installs exactly those."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    manifest = json.loads((REPO / "custom_components" / "smart_community" / "manifest.json").read_text())
    library = [r for r in project["dependencies"] if not r.startswith("aiohttp")]  # Home Assistant's own
    assert sorted(manifest["requirements"]) == sorted([*library, *project["optional-dependencies"]["faces"]])
    assert list(manifest)[:2] == ["domain", "name"] and list(manifest)[2:] == sorted(list(manifest)[2:])


def test_the_zip_carries_every_panel_module(built: Path) -> None:
    """The panel is native ES modules loaded by relative imports: a module left out of the zip breaks the whole
    panel for a HACS user, so every one must be there, byte for byte."""
    frontend = REPO / "custom_components" / "smart_community" / "frontend"
    modules = {path.relative_to(frontend).as_posix(): path.read_bytes() for path in frontend.rglob("*.js")}
    assert len(modules) > 10 and "smart-community-panel.js" in modules
    with zipfile.ZipFile(built) as archive:
        in_zip = {name.removeprefix("frontend/"): archive.read(name) for name in archive.namelist()
                  if name.startswith("frontend/")}
    assert in_zip == modules


@pytest.mark.parametrize(
    ("call", "refused"),
    [
        ('importlib.import_module("pymodbus.constants")', False),
        ('importlib.import_module("hub.gate")', True),
        ('importlib.import_module(".gate", "hub")', True),
        ("importlib.import_module(name)", True),
    ],
)
def test_only_library_modules_imported_by_name_stop_the_build(tmp_path: Path, call: str, refused: bool) -> None:
    source = tmp_path / "module.py"
    source.write_text(f"import importlib\nname = 'x'\n{call}\n")
    if refused:
        with pytest.raises(release.ReleaseError, match="imported by name"):
            release._imports(source, "devices")
    else:
        assert release._imports(source, "devices") == []

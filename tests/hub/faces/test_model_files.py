"""dlib's model files are found without importing face_recognition_models, whose ``__init__`` needs
``pkg_resources``: setuptools 82 removed it, and Home Assistant 2026.10 ships setuptools 84."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hub.exceptions import FeatureUnavailableError
from hub.faces.errors import FaceEngineUnavailableError
from hub.faces.model_files import ENCODER_FILE, SHAPE5_FILE, SHAPE68_FILE, model_files

REPO = Path(__file__).resolve().parents[3]


def _fake_package(root: Path, files: tuple[str, ...]) -> Path:
    """A face_recognition_models whose ``__init__`` fails the way the real one does on setuptools>=82."""
    package = root / "face_recognition_models"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text("from pkg_resources import resource_filename\n")
    for name in files:
        (package / "models" / name).write_bytes(b"model")
    return package


@pytest.fixture
def fake_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))  # also clears the import system's path caches
    monkeypatch.delitem(sys.modules, "face_recognition_models", raising=False)
    monkeypatch.setitem(sys.modules, "pkg_resources", None)  # as on setuptools>=82
    return tmp_path


def test_files_are_found_without_running_the_package(fake_root: Path) -> None:
    package = _fake_package(fake_root, (ENCODER_FILE, SHAPE68_FILE, SHAPE5_FILE))
    files = model_files()
    assert files.encoder == package / "models" / ENCODER_FILE
    assert files.shape68 == package / "models" / SHAPE68_FILE
    assert files.shape5 == package / "models" / SHAPE5_FILE
    assert "face_recognition_models" not in sys.modules  # its __init__ never ran


def test_a_missing_file_is_named(fake_root: Path) -> None:
    _fake_package(fake_root, (ENCODER_FILE, SHAPE5_FILE))
    with pytest.raises(FaceEngineUnavailableError, match=SHAPE68_FILE) as caught:
        model_files()
    assert "face-recognition-models" in str(caught.value)
    assert ENCODER_FILE not in str(caught.value)


def test_a_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "face_recognition_models", None)  # what find_spec reports when not installed
    with pytest.raises(FaceEngineUnavailableError, match=r"smart-community-hub\[faces\]") as caught:
        model_files()
    assert "face-recognition-models" in str(caught.value)
    assert isinstance(caught.value, FeatureUnavailableError)


@pytest.mark.usefixtures("engine")
def test_engine_loads_with_pkg_resources_and_face_recognition_unimportable() -> None:
    """The setuptools>=82 situation for real, in a fresh interpreter: pkg_resources, setuptools and the
    face_recognition package cannot be imported; every hub module imports and the engine loads and encodes."""
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        for name in ("pkg_resources", "setuptools", "face_recognition"):
            sys.modules[name] = None
        import numpy as np
        import hub
        for info in pkgutil.walk_packages(hub.__path__, "hub."):
            importlib.import_module(info.name)
        from hub.faces.engine import models
        m = models()
        assert m.resnet is not None
        assert len(m.detector(np.zeros((120, 120, 3), dtype=np.uint8))) == 0
        assert m.describe([np.zeros((150, 150, 3), dtype=np.uint8)]).shape == (1, 128)
        assert "face_recognition_models" not in sys.modules
        try:
            import face_recognition_models  # the old way: its __init__ needs pkg_resources
        except ImportError:
            print("old import fails, engine loaded")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "old import fails, engine loaded"

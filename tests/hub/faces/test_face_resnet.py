"""The numpy face encoder reads dlib's model file and gives dlib's descriptors (it replaces dlib's slow encoder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hub.faces.resnet import ModelFormatError, ResNetEncoder

pytestmark = pytest.mark.usefixtures("engine")


@pytest.fixture(scope="module")
def chips(community: dict[str, list[Path]], faces_dir: Path) -> list[np.ndarray]:
    """Aligned chips of community photos and of LFW photos (whole photos, faces found by the detector)."""
    from hub.faces.detect import detect_in_rgb, primary_face
    from hub.faces.encode import face_chip
    from hub.faces.imaging import to_rgb

    photos = [photos[0] for photos in community.values()]
    photos += sorted((faces_dir / "lfw-dev" / "images").glob("*/*.jpg"))[:200:40]
    found = []
    for photo in photos:
        rgb = to_rgb(photo)
        face = primary_face(detect_in_rgb(rgb), rgb.shape)
        assert face is not None, photo
        found.append(face_chip(rgb, face))
    return found


def test_same_descriptors_as_dlib(chips: list[np.ndarray]) -> None:
    from hub.faces.engine import models

    m = models()
    assert m.resnet is not None, "the shipped model file must load into the numpy encoder"
    ours = m.resnet(chips)
    theirs = np.asarray([np.asarray(d) for d in m.encoder.compute_face_descriptor(chips)], dtype=np.float32)
    assert ours.shape == theirs.shape == (len(chips), 128)
    # float32 rounding only: distances between templates are about 0.3-1.0.
    assert float(np.abs(ours - theirs).max()) < 1e-4
    mirrored = [np.ascontiguousarray(c[:, ::-1]) for c in chips[:2]]
    assert np.allclose(
        m.resnet(mirrored), [np.asarray(d) for d in m.encoder.compute_face_descriptor(mirrored)], atol=1e-4
    )


def test_batch_and_single_agree(chips: list[np.ndarray]) -> None:
    from hub.faces.engine import models

    resnet = models().resnet
    assert resnet is not None
    batch = resnet(chips[:3])
    for i, chip in enumerate(chips[:3]):
        assert np.allclose(resnet([chip])[0], batch[i], atol=1e-5)
    assert resnet([]).shape == (0, 128)
    with pytest.raises(ValueError, match="150x150"):
        resnet([np.zeros((100, 100, 3), dtype=np.uint8)])


def test_other_files_are_refused(tmp_path: Path) -> None:
    from hub.faces.model_files import model_files

    for name, data in (("empty", b""), ("text", b"not a model"), ("truncated", b"\x01\x01\x0dloss_metric_2")):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ModelFormatError):
            ResNetEncoder.from_file(path)
    # dlib's 5-point shape predictor is a dlib file too, but not this network.
    with pytest.raises(ModelFormatError):
        ResNetEncoder.from_file(model_files().shape5)


def test_dlib_encoder_is_the_fallback(chips: list[np.ndarray]) -> None:
    import dataclasses

    from hub.faces.engine import models

    m = models()
    without = dataclasses.replace(m, resnet=None)  # what the engine holds when the model file cannot be read
    assert np.allclose(without.describe(chips[:2]), m.describe(chips[:2]), atol=1e-4)

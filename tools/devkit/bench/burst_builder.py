"""``community-hub bench build-bursts``: camera-like gate bursts from photos, in the layout ``bench bursts`` reads.

Every frame is what a 1920x1080 gate camera at about 0.7-1 m gives: a scene (wall, gate bars, ground), the face
about 250-320 px wide near the centre, a little defocus, sensor noise (read noise plus shot noise), a small
exposure flicker, JPEG at a camera's quality (80), at the camera's cadence (the gate's frame interval). A photo is
a 2D image: nothing here can make a real 3D head turn, blink or talk; a still person only sways and jitters.

Per person (photos sorted by name: the first ``--gallery-photos`` are the gallery, the next one is the probe):

``bona_fide/<Name>/still``
    the probe photo (never a gallery photo) as one capture of a person standing in front of the camera: sub-pixel
    jitter, a slow head sway (a fraction of a degree, a pixel or two), lighting flicker, fresh noise each frame.
``bona_fide/<Name>/approach``
    the same capture walking up: the face grows by about 20% over the burst, with a small walking bob.
``attack/print_still/<Name>/1``
    the probe photo printed (white paper margin, the photo's own background, reduced dynamic range, a little
    paper sheen) and held still: hand tremor only.
``attack/print_moved/<Name>/1``
    the same print moved rigidly: shifted, turned and tilted (a perspective warp) from frame to frame.
``attack/print_bent/<Name>/1``
    the print bent around a vertical axis (a cylindrical warp whose curvature flexes from frame to frame).
``attack/replay_video/<Name>/1``
    a phone held up playing a video of the person standing still (the still capture above, on the screen):
    bezel, the screen's pixel grid beating against the camera's (moire), a glare patch, the screen's own
    brightness and colour.
``attack/replay_slideshow/<Name>/1``
    the phone showing a slideshow of *other* photos of the person (not the gallery's; the probe photo last, so
    that there are always two), changing every ``--slide-frames`` frames.

People are split into two disjoint halves by their position in sorted order (even: ``tune``, odd: ``report``), each
written with its own ``gallery/`` and ``bursts/``: set thresholds on one, report on the other.
"""

from __future__ import annotations

import argparse
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter

from hub.faces.models import ImageArray

FRAME_SIZE = (1920, 1080)
JPEG_QUALITY = 80
BONA_FIDE = ("still", "approach")
KINDS = ("print_still", "print_moved", "print_bent", "replay_video", "replay_slideshow")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub bench build-bursts``."""
    parser.add_argument("--photos", type=Path, required=True, help="folder of <Name>/*.jpg (e.g. lfw-dev/images)")
    parser.add_argument("--out", type=Path, required=True, help="where to write tune/ and report/ (made if missing)")
    parser.add_argument("--people", type=int, default=40, help="people to use, in sorted order (default: 40)")
    parser.add_argument("--gallery-photos", type=int, default=2, help="photos per person to enrol (default: 2)")
    parser.add_argument("--frames", type=int, default=8, help="frames per burst (default: 8)")
    parser.add_argument("--slide-frames", type=int, default=2, help="slideshow: frames per photo (default: 2)")
    parser.add_argument("--kinds", default=",".join((*BONA_FIDE, *KINDS)),
                        help="comma-separated bursts to write (default: all: still, approach and every attack)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--split", choices=("both", "tune", "report", "none"), default="both",
                        help="write both halves (default), one of them, or every person into one set ('none')")


@dataclass(frozen=True)
class Scene:
    """The fixed part of a camera's view: the background and where the face sits."""

    background: Image.Image
    centre: tuple[float, float]
    face_scale: float  # photo pixels -> frame pixels at the final (nearest) position


def make_scene(rng: np.random.Generator, size: tuple[int, int] = FRAME_SIZE, face_scale: float | None = None
               ) -> Scene:
    """A gate seen by its camera: a wall with a soft gradient and texture, the gate's bars, the ground.

    ``face_scale`` enlarges the photo into the frame (default: 2.4-2.9x, a 250 px LFW photo in a 1080p frame, the
    face 250-320 px wide); the bars and the face's position scale with the frame.
    """
    width, height = size
    k = width / FRAME_SIZE[0]
    wall = np.linspace(1.0, 0.8, height)[:, None, None] * rng.uniform(120, 190, size=3)
    blocks = rng.normal(0, 6, size=(-(-height // 8), -(-width // 8), 1))
    texture = np.kron(blocks, np.ones((8, 8, 1)))[:height, :width]
    image = Image.fromarray(np.clip(wall + texture, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    horizon = int(height * rng.uniform(0.72, 0.8))
    ground = tuple(int(c) for c in rng.uniform(70, 110, size=3))
    draw.rectangle([0, horizon, width, height], fill=ground)
    gap = max(8, int(rng.integers(140, 220) * k))
    bar = tuple(int(c) for c in rng.uniform(40, 80, size=3))
    for x in range(int(rng.integers(0, gap)), width, gap):
        draw.rectangle([x, int(height * 0.12), x + max(2, round(14 * k)), horizon], fill=bar)
    draw.rectangle([0, int(height * 0.12), width, int(height * 0.12) + max(2, round(10 * k))], fill=bar)
    background = image.filter(ImageFilter.GaussianBlur(2.0 * k))  # the background is out of focus
    centre = (width / 2 + float(rng.uniform(-120, 120)) * k, height * 0.45 + float(rng.uniform(-60, 60)) * k)
    return Scene(background, centre, float(rng.uniform(2.4, 2.9)) if face_scale is None else face_scale)


def _affine(photo: Image.Image, scale: float, angle: float, centre: tuple[float, float],
            size: tuple[int, int]) -> Image.Image:
    """The photo, scaled and turned about its centre, placed with its centre at ``centre`` (sub-pixel)."""
    theta = math.radians(angle)
    cos, sin = math.cos(theta) / scale, math.sin(theta) / scale
    pw, ph = photo.size
    cx, cy = centre
    # Output (x, y) -> input: inverse rotation and scale about the output centre, then the photo's centre.
    a, b = cos, sin
    d, e = -sin, cos
    c = pw / 2 - a * cx - b * cy
    f = ph / 2 - d * cx - e * cy
    return photo.transform(size, Image.Transform.AFFINE, (a, b, c, d, e, f), Image.Resampling.BICUBIC)


def _soft_mask(size: tuple[int, int]) -> Image.Image:
    """An elliptical, feathered mask over a photo: the person without the photo's own rectangle."""
    width, height = size
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse([width * 0.14, height * 0.06, width * 0.86, height * 1.05], fill=255)
    return mask.filter(ImageFilter.GaussianBlur(width * 0.05))


def camera_jpeg(frame: ImageArray, rng: np.random.Generator, gain: float = 1.0) -> bytes:
    """The sensor and encoder: exposure, read and shot noise, JPEG (the photos, enlarged 2.4-2.9x, are already as
    soft as a gate camera's lens makes a face at that distance)."""
    pixels = np.asarray(frame, dtype=np.float32)
    pixels *= np.float32(gain)
    noise = rng.standard_normal(size=pixels.shape, dtype=np.float32)
    # Read noise (sigma 2) plus shot noise growing with the signal, on the sensor's linear-ish scale.
    noise *= np.sqrt(np.float32(4.0) + np.float32(0.06) * pixels)
    pixels += noise
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _sway(frames: int, rng: np.random.Generator, amplitude_px: float, amplitude_deg: float
          ) -> list[tuple[float, float, float]]:
    """A slow, smooth sway plus sub-pixel jitter: (dx, dy, angle) per frame."""
    phase = rng.uniform(0, 2 * math.pi, size=3)
    period = rng.uniform(25, 60)  # frames: a sway of 1-2.5 s on a 25 fps camera
    rows = []
    for i in range(frames):
        t = 2 * math.pi * i / period
        rows.append((
            amplitude_px * math.sin(t + phase[0]) + float(rng.normal(0, 0.3)),
            amplitude_px * 0.6 * math.sin(t + phase[1]) + float(rng.normal(0, 0.3)),
            amplitude_deg * math.sin(t + phase[2]) + float(rng.normal(0, 0.05)),
        ))
    return rows


def person_frames(photo: Image.Image, scene: Scene, frames: int, rng: np.random.Generator,
                  approach: bool = False) -> list[ImageArray]:
    """A live person in front of the camera (still, or walking up): raw RGB frames before the camera."""
    mask = _soft_mask(photo.size)
    rgba = photo.convert("RGB")
    rgba.putalpha(mask)
    out = []
    for i, (dx, dy, angle) in enumerate(_sway(frames, rng, 1.5, 0.4)):
        scale = scene.face_scale
        cy = scene.centre[1]
        if approach:
            progress = i / max(1, frames - 1)
            scale *= 0.82 + 0.18 * progress
            cy += 12 * math.sin(math.pi * 2 * progress * 1.5)  # walking bob
        layer = _affine(rgba, scale, angle, (scene.centre[0] + dx, cy + dy), scene.background.size)
        frame = scene.background.copy()
        frame.paste(layer, (0, 0), layer)
        out.append(np.asarray(frame))
    return out


def printed(photo: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The photo as a print: reduced dynamic range and saturation, a white paper margin."""
    pixels = np.asarray(photo.convert("RGB"), dtype=np.float32) / 255.0
    luma = pixels.mean(axis=2, keepdims=True)
    pixels = luma + (pixels - luma) * 0.85  # inks saturate less
    pixels = 0.09 + 0.80 * pixels ** 1.1  # paper white is not a light source; ink black is not black
    grain = rng.normal(0, 0.012, size=(*pixels.shape[:2], 1))
    sheet = np.clip(pixels + grain, 0, 1)
    margin = max(6, photo.width // 14)
    paper = Image.new("RGB", (photo.width + 2 * margin, photo.height + 2 * margin), (226, 224, 216))
    paper.paste(Image.fromarray((sheet * 255).astype(np.uint8)), (margin, margin))
    return paper


def _perspective(image: Image.Image, size: tuple[int, int], corners: npt.NDArray[np.float64]) -> Image.Image:
    """``image`` (RGBA) warped so its corners land on ``corners`` (4x2, clockwise from top left) in ``size``."""
    w, h = image.size
    source = [(0, 0), (w, 0), (w, h), (0, h)]
    rows, rhs = [], []
    for (x, y), (u, v) in zip(corners, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    coefficients = np.linalg.solve(np.asarray(rows, dtype=np.float64), np.asarray(rhs, dtype=np.float64))
    return image.transform(size, Image.Transform.PERSPECTIVE, tuple(float(c) for c in coefficients),
                           Image.Resampling.BICUBIC)


def _bend(sheet: Image.Image, curvature: float) -> Image.Image:
    """A sheet bent around a vertical axis: columns squeezed towards the edges and the edges pushed back (the
    middle bulges towards the camera), seen from the front."""
    w, h = sheet.size
    pixels = np.asarray(sheet)
    x = np.linspace(-1, 1, w)
    # A cylinder of angle `curvature`: a point at arc position s projects to sin(s*k)/k, and is nearer the
    # camera (larger) in the middle.
    k = max(curvature, 1e-3)
    projected = np.sin(x * k) / math.sin(k)
    depth = 1.0 + 0.12 * curvature * (np.cos(x * k) - math.cos(k))
    out = np.zeros_like(pixels)
    columns = np.clip(np.interp(x, projected, np.arange(w)), 0, w - 1).astype(int)
    rows_centre = (h - 1) / 2
    for j in range(w):
        factor = float(np.interp(x[j], projected, depth))
        rows = np.clip(((np.arange(h) - rows_centre) / factor + rows_centre).round().astype(int), 0, h - 1)
        valid = np.abs(np.arange(h) - rows_centre) <= rows_centre * factor
        out[valid, j] = pixels[rows[valid], columns[j]]
    return Image.fromarray(out)


def print_frames(photo: Image.Image, scene: Scene, frames: int, rng: np.random.Generator,
                 motion: str) -> list[ImageArray]:
    """A print of ``photo`` held up to the camera: ``still`` (tremor), ``moved`` (rigid) or ``bent``."""
    sheet = printed(photo, rng).convert("RGBA")
    scale = scene.face_scale
    out = []
    base_tilt = float(rng.uniform(-0.08, 0.08))
    for i in range(frames):
        current = sheet
        if motion == "bent":
            curvature = 0.9 + 0.25 * math.sin(i * 0.9 + float(rng.uniform(0, 6)))
            current = _bend(sheet.convert("RGB"), curvature).convert("RGBA")
            current.putalpha(_bend(Image.new("RGB", sheet.size, (255, 255, 255)), curvature).convert("L"))
        if motion == "moved":
            dx, dy = rng.uniform(-60, 60, size=2)
            angle = float(rng.uniform(-10, 10))
            tilt = float(rng.uniform(-0.15, 0.15))
            s = scale * float(rng.uniform(0.92, 1.08))
        else:
            dx, dy = rng.normal(0, 0.8, size=2)
            angle = float(rng.normal(0, 0.15))
            tilt = base_tilt
            s = scale
        w, h = current.size
        half = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]]) * s
        theta = math.radians(angle)
        rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
        corners = half @ rot.T
        # Tilt about the vertical axis: one side further away (shorter), the other nearer.
        corners[[0, 3], 1] *= 1 - tilt
        corners[[1, 2], 1] *= 1 + tilt
        corners += np.array([scene.centre[0] + dx, scene.centre[1] + dy])
        layer = _perspective(current, scene.background.size, corners)
        frame = scene.background.copy()
        frame.paste(layer, (0, 0), layer)
        out.append(np.asarray(frame))
    return out


def _screen(content: ImageArray, rng: np.random.Generator, phase: float) -> Image.Image:
    """What a phone screen showing ``content`` looks like to the camera: its own brightness and colour, the
    pixel grid beating against the camera's (moire bands), a glare patch, a black bezel."""
    h, w = content.shape[:2]
    pixels = content.astype(np.float32) / 255.0
    pixels = np.clip(pixels * 1.08 + 0.03, 0, 1) * np.array([0.96, 1.0, 1.06])  # a cool, bright screen
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = 0.35
    moire = 0.035 * np.sin(2 * np.pi * (x * math.cos(angle) + y * math.sin(angle)) / 9.0 + phase)
    glare_x, glare_y = w * 0.7, h * 0.25
    glare = 0.22 * np.exp(-(((x - glare_x) / (w * 0.25)) ** 2 + ((y - glare_y) / (h * 0.18)) ** 2))
    shown = np.clip(pixels + moire[..., None] + glare[..., None], 0, 1)
    bezel = max(8, w // 18)
    phone = Image.new("RGB", (w + 2 * bezel, h + 4 * bezel), (18, 18, 20))
    phone.paste(Image.fromarray((shown * 255).astype(np.uint8)), (bezel, 2 * bezel))
    return phone


def replay_frames(contents: Sequence[Image.Image], scene: Scene, frames: int, rng: np.random.Generator,
                  slide_frames: int | None) -> list[ImageArray]:
    """A phone held up (hand tremor) playing ``contents``: the person's video (one photo with sway) or a
    slideshow (the photos in turn, ``slide_frames`` frames each)."""
    out = []
    first = contents[0].convert("RGB")
    sway = _sway(frames, rng, 0.8, 0.3)
    for i in range(frames):
        if slide_frames is None:
            dx, dy, angle = sway[i]
            content = _affine(first, 1.0, angle, (first.width / 2 + dx, first.height / 2 + dy), first.size)
        else:
            content = contents[(i // slide_frames) % len(contents)].convert("RGB").resize(first.size)
        phone = _screen(np.asarray(content), rng, phase=float(i * 0.7)).convert("RGBA")
        tremor = rng.normal(0, 0.8, size=2)
        layer = _affine(phone, scene.face_scale, float(rng.normal(0, 0.15)),
                        (scene.centre[0] + tremor[0], scene.centre[1] + tremor[1]), scene.background.size)
        frame = scene.background.copy()
        frame.paste(layer, (0, 0), layer)
        out.append(np.asarray(frame))
    return out


def _write(folder: Path, frames: Sequence[ImageArray], rng: np.random.Generator) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    base_gain = float(rng.uniform(0.9, 1.1))
    for i, frame in enumerate(frames):
        gain = base_gain * (1 + 0.01 * math.sin(i * 2.1) + float(rng.normal(0, 0.004)))  # mains flicker
        (folder / f"{i:03d}.jpg").write_bytes(camera_jpeg(frame, rng, gain))


def build_person(name: str, photos: Sequence[Path], out: Path, args: argparse.Namespace,
                 rng: np.random.Generator) -> None:
    """One person's gallery photos (copied) and their bursts."""
    gallery = out / "gallery" / name
    gallery.mkdir(parents=True, exist_ok=True)
    for photo in photos[: args.gallery_photos]:
        (gallery / photo.name).write_bytes(photo.read_bytes())
    rest = [Image.open(p).convert("RGB") for p in photos[args.gallery_photos:]]
    # The slideshow: the person's other photos, then the probe (so it always changes photo), never the gallery's.
    probe, others = rest[0], [*rest[1:], rest[0]]
    bursts = out / "bursts"
    kinds = set(args.kinds_list)
    for approach in (False, True):
        label = "approach" if approach else "still"
        if label in kinds:
            _write(bursts / "bona_fide" / name / label,
                   person_frames(probe, make_scene(rng), args.frames, rng, approach=approach), rng)
    for motion in ("still", "moved", "bent"):
        if f"print_{motion}" in kinds:
            _write(bursts / "attack" / f"print_{motion}" / name / "1",
                   print_frames(probe, make_scene(rng), args.frames, rng, motion), rng)
    if "replay_video" in kinds:
        _write(bursts / "attack" / "replay_video" / name / "1",
               replay_frames([probe], make_scene(rng), args.frames, rng, None), rng)
    if "replay_slideshow" in kinds:
        _write(bursts / "attack" / "replay_slideshow" / name / "1",
               replay_frames(others, make_scene(rng), args.frames, rng, args.slide_frames), rng)


def run(args: argparse.Namespace) -> int:
    """Build the bursts."""
    root: Path = args.photos
    if not root.is_dir():
        print(f"no such folder: {root}")
        return 2
    args.kinds_list = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = sorted(set(args.kinds_list) - {*BONA_FIDE, *KINDS})
    if unknown or not args.kinds_list:
        print(f"unknown --kinds {', '.join(unknown) or '(none)'}; choose from {', '.join((*BONA_FIDE, *KINDS))}")
        return 2
    if args.gallery_photos < 1 or args.slide_frames < 1:
        print("--gallery-photos and --slide-frames must be at least 1")
        return 2
    needed = args.gallery_photos + 2  # the gallery, a probe, and another photo for the slideshow
    people = [(p.name, sorted(p.glob("*.jpg"))) for p in sorted(root.iterdir()) if p.is_dir()]
    people = [(n, ph) for n, ph in people if len(ph) >= needed][: args.people]
    if not people or args.frames < 1:
        print(f"need people with at least {needed} photos under {root}, and --frames >= 1")
        return 2
    rng = np.random.default_rng(args.seed)
    written: dict[str, list[str]] = {}
    for index, (name, photos) in enumerate(people):
        half = "tune" if index % 2 == 0 else "report"
        if args.split not in ("both", "none", half):
            continue
        target = args.out if args.split == "none" else args.out / half
        build_person(name, photos, target, args, rng)
        written.setdefault("all" if args.split == "none" else half, []).append(name)
    for half, names in written.items():
        print(f"{half}: {len(names)} people")
    print(json.dumps({"people": {k: len(v) for k, v in written.items()}, "frames": args.frames,
                      "kinds": args.kinds_list}))
    return 0

"""dlib's face encoder (``dlib_face_recognition_resnet_model_v1``) run on numpy's BLAS instead of inside dlib.

The prebuilt ``dlib-bin`` wheel has no BLAS: its convolutions are plain loops and one 150x150 chip takes about
75 ms. numpy ships OpenBLAS, and the network is small (29 convolutions, about 0.28 billion multiply-adds per
chip), so the same forward pass as im2col + one matrix product per convolution takes about 13 ms on one core.
The weights are read from the model file face_recognition_models ships (dlib's own serialisation format), so
the templates are dlib's templates: over all 1,583 lfw-dev photos the unit templates of the two differ by at
most 2.4e-7 per component (``tests/hub/faces/test_face_resnet.py`` checks it against dlib on real photos).

The network, as dlib's ``dnn_face_recognition_ex.cpp`` defines it::

    input 150x150 RGB: (pixel - mean) / 256
    con 32 7x7/2 -> affine -> relu -> max_pool 3x3/2
    14 residual blocks (32 x3, 64 x4, 128 x3, 256 x3, 256 x1; the first of each width after 32 halves the size):
        x -> con 3x3/s -> affine -> relu -> con 3x3/1 -> affine -> (+ x, or + avg_pool 2x2/2 of x) -> relu
    mean over the remaining positions -> fc 256x128 (no bias)

``affine`` is a per-channel scale and shift (batch normalisation, frozen); it is folded into the convolution
before it. Where the two inputs of a residual sum differ in size, dlib pads the smaller with zeros (channels
and, once, a row and a column); so does :func:`_add`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import as_strided

from hub.faces.models import FloatArray, ImageArray

Tensor = npt.NDArray[np.float32]  # (N, H, W, C): a batch of feature maps, channels last

CHIP_SIZE = 150


class ModelFormatError(ValueError):
    """The model file is not the dlib network this module knows how to run."""


# ---------------------------------------------------------------------------------------------- reading dlib files
class _Reader:
    """dlib's ``serialize`` format: compact integers, (mantissa, exponent) floats, '0'/'1' bools, raw tensors."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def integer(self) -> int:
        control = self.data[self.pos]
        size = control & 0x0F
        if size > 8 or control & 0x70:
            raise ModelFormatError(f"not an integer at byte {self.pos}")
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def text(self) -> str:
        size = self.integer()
        value = self.data[self.pos : self.pos + size].decode("ascii", errors="replace")
        self.pos += size
        return value

    def real(self) -> float:
        mantissa = self.integer()
        exponent = self.integer()
        return float(mantissa * 2.0**exponent)

    def flag(self) -> bool:
        value = self.data[self.pos]
        if value not in (0x30, 0x31):
            raise ModelFormatError(f"not a bool at byte {self.pos}")
        self.pos += 1
        return value == 0x31

    def tensor(self) -> npt.NDArray[np.float32]:
        version = self.integer()
        if version != 2:
            raise ModelFormatError(f"tensor format {version} (only 2 is supported)")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos).astype(np.float32)
        self.pos += 4 * count
        return values.reshape(shape)

    def alias(self) -> tuple[int, ...]:
        if self.integer() != 1:
            raise ModelFormatError("unknown alias_tensor format")
        return tuple(self.integer() for _ in range(4))


@dataclass(frozen=True)
class _Layer:
    kind: str  # con, affine, relu, max_pool, avg_pool, add_prev, fc
    params: npt.NDArray[np.float32] | None = None
    shape: tuple[int, ...] = ()  # con: (filters, kernel rows, kernel cols, stride y, stride x, pad y, pad x)


def _read_layer(reader: _Reader) -> _Layer:
    name = reader.text()
    if name == "con_4":
        params = reader.tensor()
        shape = tuple(reader.integer() for _ in range(7))
        reader.alias()
        reader.alias()
        for _ in range(4):
            reader.real()
        layer = _Layer("con", params, shape)
    elif name == "affine_":
        params = reader.tensor()
        reader.alias()
        reader.alias()
        if reader.integer() != 0:  # CONV_MODE: one scale and shift per channel
            raise ModelFormatError("affine layer not in per-channel mode")
        layer = _Layer("affine", params)
    elif name == "relu_":
        layer = _Layer("relu")
    elif name in ("max_pool_2", "avg_pool_2"):
        shape = tuple(reader.integer() for _ in range(6))
        layer = _Layer(name[:-2], None, shape)
    elif name == "add_prev_":
        layer = _Layer("add_prev")
    elif name == "fc_2":
        outputs, inputs = reader.integer(), reader.integer()
        params = reader.tensor()
        reader.alias()
        reader.alias()
        if reader.integer() != 1:  # FC_NO_BIAS
            raise ModelFormatError("fc layer with a bias")
        for _ in range(4):
            reader.real()
        layer = _Layer("fc", params.reshape(inputs, outputs), (inputs, outputs))
    else:
        raise ModelFormatError(f"unexpected layer {name!r}")
    # add_layer's own state after the details: three flags and three (empty) tensors.
    for _ in range(3):
        reader.flag()
    for _ in range(3):
        reader.tensor()
    return layer


def _read_layers(data: bytes) -> tuple[FloatArray, list[_Layer]]:
    """The input mean and every layer from input to output (dlib writes the network outermost first)."""
    reader = _Reader(data)
    if reader.integer() != 1 or reader.text() != "loss_metric_2":
        raise ModelFormatError("not a dlib metric-learning network")
    reader.real()  # margin
    reader.real()  # distance threshold
    # The nested layers' version numbers (add_layer, tags, skips), outermost first, down to the input layer.
    marker = data.find(b"\x01\x15input_rgb_image_sized", reader.pos, 4096)
    if marker < 0:
        raise ModelFormatError("no RGB input layer found")
    innermost = 0
    while reader.pos < marker:
        innermost = reader.integer()
    if reader.pos != marker:
        raise ModelFormatError("unexpected bytes before the input layer")
    if reader.text() != "input_rgb_image_sized":
        raise ModelFormatError("not an RGB image network")
    mean = np.array([reader.real() for _ in range(3)], dtype=np.float32)
    if (reader.integer(), reader.integer()) != (CHIP_SIZE, CHIP_SIZE):
        raise ModelFormatError("not a 150x150 network")
    layers = [_read_layer(reader)]
    if innermost >= 3:  # the first layer's add_layer (version 3 on) also records the sample expansion factor
        reader.integer()
    while reader.pos < len(data):
        layers.append(_read_layer(reader))
    return mean, layers


# ---------------------------------------------------------------------------------------------- the network
@dataclass(frozen=True)
class _Conv:
    """A convolution with the following affine layer folded in: ``weights`` is (kh*kw*cin, cout)."""

    weights: Tensor
    bias: Tensor
    kernel: int
    stride: int
    pad: int


@dataclass(frozen=True)
class _Block:
    first: _Conv
    second: _Conv
    down: bool  # the shortcut is a 2x2 average pool of the input (and the first convolution has stride 2)


def _fold(con: _Layer, affine: _Layer, channels_in: int) -> _Conv:
    assert con.params is not None
    assert affine.params is not None
    filters, rows, cols, stride_y, stride_x, pad_y, pad_x = con.shape
    if rows != cols or stride_y != stride_x or pad_y != pad_x:
        raise ModelFormatError("only square kernels, strides and padding are supported")
    flat = con.params.reshape(-1)
    size = filters * channels_in * rows * cols
    if flat.size != size + filters or affine.params.size != 2 * filters:
        raise ModelFormatError("convolution and affine sizes do not match")
    kernel = flat[:size].reshape(filters, channels_in, rows, cols)
    bias = flat[size:]
    gamma, beta = affine.params.reshape(-1)[:filters], affine.params.reshape(-1)[filters:]
    # (cout, cin, kh, kw) -> (kh, kw, cin, cout): the column order of the im2col patches below.
    weights = (kernel * gamma[:, None, None, None]).transpose(2, 3, 1, 0).reshape(-1, filters)
    return _Conv(
        np.ascontiguousarray(weights, dtype=np.float32),
        (bias * gamma + beta).astype(np.float32),
        rows,
        stride_y,
        pad_y,
    )


class ResNetEncoder:
    """The 128-d face descriptor of aligned 150x150 RGB chips, as ``dlib.face_recognition_model_v1`` computes it."""

    def __init__(self, mean: FloatArray, stem: _Conv, blocks: list[_Block], fc: Tensor) -> None:
        self.mean = mean
        self.stem = stem
        self.blocks = blocks
        self.fc = fc
        # The first of the widest blocks (256 channels on 5x5 and 3x3 maps). Their matrix products are a handful
        # of rows against 2.4 MB of weights each, so they cost about the same for one chip as for six: a burst
        # runs them once for all its frames (:meth:`late`) instead of once per frame.
        widest = max(block.second.weights.shape[1] for block in blocks)
        self.late_start = next(i for i, block in enumerate(blocks) if block.second.weights.shape[1] == widest)

    @classmethod
    def from_file(cls, path: str | Path) -> ResNetEncoder:
        """Read dlib's ``dlib_face_recognition_resnet_model_v1.dat``; raises :class:`ModelFormatError` otherwise."""
        try:
            mean, layers = _read_layers(Path(path).read_bytes())
        except (IndexError, ValueError) as err:
            raise ModelFormatError(f"{path}: {err}") from err
        kinds = [layer.kind for layer in layers]
        if kinds[:4] != ["con", "affine", "relu", "max_pool"] or kinds[-2:] != ["avg_pool", "fc"]:
            raise ModelFormatError(f"{path}: unexpected network layout")
        stem = _fold(layers[0], layers[1], 3)
        if layers[3].shape != (3, 3, 2, 2, 0, 0) or layers[-2].shape[:2] != (0, 0):
            raise ModelFormatError(f"{path}: unexpected pooling")
        channels = stem.weights.shape[1]
        blocks: list[_Block] = []
        i = 4
        plain = ["con", "affine", "relu", "con", "affine", "add_prev", "relu"]
        down = ["con", "affine", "relu", "con", "affine", "avg_pool", "add_prev", "relu"]
        while i < len(layers) - 2:
            if kinds[i : i + 7] == plain:
                first = _fold(layers[i], layers[i + 1], channels)
                second = _fold(layers[i + 3], layers[i + 4], first.weights.shape[1])
                if first.stride != 1 or first.weights.shape[1] != channels:
                    raise ModelFormatError(f"{path}: unexpected residual block at layer {i}")
                blocks.append(_Block(first, second, down=False))
                i += 7
            elif kinds[i : i + 8] == down:
                if layers[i + 5].shape != (2, 2, 2, 2, 0, 0):
                    raise ModelFormatError(f"{path}: unexpected shortcut pooling at layer {i}")
                first = _fold(layers[i], layers[i + 1], channels)
                second = _fold(layers[i + 3], layers[i + 4], first.weights.shape[1])
                if first.stride != 2 or first.pad != 0:
                    raise ModelFormatError(f"{path}: unexpected down-sampling block at layer {i}")
                blocks.append(_Block(first, second, down=True))
                i += 8
            else:
                raise ModelFormatError(f"{path}: unexpected layers {kinds[i : i + 8]}")
            channels = blocks[-1].second.weights.shape[1]
        fc = layers[-1].params
        assert fc is not None
        if fc.shape[0] != channels:
            raise ModelFormatError(f"{path}: fc layer does not fit the last block")
        return cls(mean, stem, blocks, np.ascontiguousarray(fc, dtype=np.float32))

    def __call__(self, chips: Sequence[ImageArray]) -> FloatArray:
        """Descriptors (not unit length, as dlib returns them), one row per 150x150 RGB uint8 chip."""
        if not chips:
            return np.zeros((0, self.fc.shape[1]), dtype=np.float32)
        return self.late(self.early(chips))

    def early(self, chips: Sequence[ImageArray]) -> Tensor:
        """The network up to :attr:`late_start`: feature maps, one per chip, for :meth:`late` (batched or not,
        ``late(early(a) + early(b))`` is ``self(a + b)``: every layer treats each chip on its own)."""
        for chip in chips:
            if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3):
                raise ValueError(f"chips must be {CHIP_SIZE}x{CHIP_SIZE} RGB, got {chip.shape}")
        x = np.stack(chips).astype(np.float32)
        x -= self.mean
        x *= np.float32(1 / 256)
        x = _relu(_conv(x, self.stem))
        x = _max_pool_3x3_2(x)
        return self._blocks(x, self.blocks[: self.late_start])

    def late(self, maps: Tensor) -> FloatArray:
        """The rest of the network on :meth:`early`'s feature maps (of any number of chips, stacked)."""
        x = self._blocks(maps, self.blocks[self.late_start :])
        pooled = x.mean(axis=(1, 2), dtype=np.float32)
        return np.asarray(pooled @ self.fc, dtype=np.float32)

    @staticmethod
    def _blocks(x: Tensor, blocks: Sequence[_Block]) -> Tensor:
        for block in blocks:
            h = _relu(_conv(x, block.first))
            h = _conv(h, block.second)
            x = _relu(_add(h, _avg_pool_2x2_2(x) if block.down else x))
        return x


def _conv(x: Tensor, conv: _Conv) -> Tensor:
    """im2col (every k x k window as one row, in (row, column, channel) order) and one matrix product."""
    if conv.pad:  # zeros around the map (np.pad does the same, several times slower on these small maps)
        p = conv.pad
        padded = np.zeros((x.shape[0], x.shape[1] + 2 * p, x.shape[2] + 2 * p, x.shape[3]), dtype=np.float32)
        padded[:, p:-p, p:-p] = x
        x = padded
    k, s = conv.kernel, conv.stride
    n, height, width, channels = x.shape
    rows, cols = (height - k) // s + 1, (width - k) // s + 1
    sn, sh, sw, sc = x.strides
    windows = as_strided(
        x, shape=(n, rows, cols, k, k, channels), strides=(sn, sh * s, sw * s, sh, sw, sc), writeable=False
    )
    patches = np.ascontiguousarray(windows).reshape(n * rows * cols, k * k * channels)
    out = patches @ conv.weights
    out += conv.bias
    return out.reshape(n, rows, cols, -1)


def _relu(x: Tensor) -> Tensor:
    return np.maximum(x, 0, out=x)


def _max_pool_3x3_2(x: Tensor) -> Tensor:
    rows, cols = (x.shape[1] - 3) // 2 + 1, (x.shape[2] - 3) // 2 + 1
    out = x[:, : 2 * rows : 2, : 2 * cols : 2].copy()
    for dy in range(3):
        for dx in range(3):
            np.maximum(out, x[:, dy : dy + 2 * rows : 2, dx : dx + 2 * cols : 2], out=out)
    return out


def _avg_pool_2x2_2(x: Tensor) -> Tensor:
    rows, cols = (x.shape[1] - 2) // 2 + 1, (x.shape[2] - 2) // 2 + 1
    total = x[:, 0 : 2 * rows : 2, 0 : 2 * cols : 2] + x[:, 1 : 2 * rows : 2, 0 : 2 * cols : 2]
    total += x[:, 0 : 2 * rows : 2, 1 : 2 * cols : 2]
    total += x[:, 1 : 2 * rows : 2, 1 : 2 * cols : 2]
    return np.asarray(total * np.float32(0.25), dtype=np.float32)


def _add(a: Tensor, b: Tensor) -> Tensor:
    """``a + b``, the smaller zero-extended (rows, columns, channels) to the larger, as dlib's add_prev does."""
    if a.shape == b.shape:
        return np.asarray(a + b, dtype=np.float32)
    shape = tuple(max(p, q) for p, q in zip(a.shape, b.shape, strict=True))
    out = np.zeros(shape, dtype=np.float32)
    out[:, : a.shape[1], : a.shape[2], : a.shape[3]] += a
    out[:, : b.shape[1], : b.shape[2], : b.shape[3]] += b
    return out

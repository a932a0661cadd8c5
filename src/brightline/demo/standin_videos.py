"""Generated benign stand-in videos: panning 1/f noise with moving coloured shapes and scene cuts.

Used by the demo, the tests and the video benchmark. Nothing here depicts anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, cast

import av
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from av.video.stream import VideoStream

Frame = npt.NDArray[np.uint8]


def pink_noise(rng: np.random.Generator, height: int, width: int) -> Frame:
    """A colour 1/f noise image (natural-image-like spectrum), values 0-255."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radius = np.sqrt(fx * fx + fy * fy)
    radius[0, 0] = 1.0
    channels = []
    for _ in range(3):
        spectrum = (rng.normal(size=radius.shape) + 1j * rng.normal(size=radius.shape)) / radius
        spectrum[0, 0] = 0
        image = np.fft.irfft2(spectrum, s=(height, width))
        channels.append((image - image.mean()) / (image.std() + 1e-9))
    noise: Frame = np.clip(np.stack(channels, axis=2) * 45 + 128, 0, 255).astype(np.uint8)
    return noise


def synthetic_frames(
    seed: int, width: int, height: int, fps: float, seconds: float, scene_seconds: float = 4.0
) -> Iterator[Frame]:
    """``seconds * fps`` frames: panning noise and four moving shapes, a new scene every 4 s."""
    rng = np.random.default_rng(seed)
    frames_per_scene = max(1, round(scene_seconds * fps))
    background = pink_noise(rng, height, width)
    shapes: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], int, Frame]] = []
    for index in range(round(seconds * fps)):
        if index % frames_per_scene == 0:
            background = pink_noise(rng, height, width)
            shapes = []
            for _ in range(4):
                start = rng.uniform([0, 0], [height, width])
                velocity = rng.uniform(-60, 60, size=2) / fps  # pixels per frame
                size = int(rng.integers(max(4, min(width, height) // 8), min(width, height) // 3))
                shapes.append((start, velocity, size, rng.integers(0, 256, 3).astype(np.uint8)))
        local = index % frames_per_scene
        frame = np.roll(background, int(local * 20 / fps), axis=1)  # the camera pans 20 px/s
        for start, velocity, size, colour in shapes:
            y, x = (start + velocity * local).astype(int)
            y, x = y % height, x % width
            frame[y : y + size, x : x + size] = colour
        yield frame


def write_video(
    path: Path,
    frames: Iterator[Frame] | list[Frame],
    *,
    fps: float = 30,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    bit_rate: int | None = None,
    rotation: int = 0,
    pts_ms: list[int] | None = None,
) -> Path:
    """Encode RGB frames; ``pts_ms`` gives each frame's presentation time (a VFR file)."""
    with av.open(str(path), mode="w") as container:
        stream = cast(
            "VideoStream", container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        )
        stream.pix_fmt = pix_fmt
        if bit_rate is not None:
            stream.bit_rate = bit_rate
        if codec == "libx264":
            stream.options = {"preset": "ultrafast"}
        if pts_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            stream.set_display_rotation(rotation)
        stream.width, stream.height = 64, 64  # replaced by the first frame's size
        for index, rgb in enumerate(frames):
            if index == 0:
                stream.height, stream.width = rgb.shape[:2]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            if pts_ms is not None:
                frame.pts = pts_ms[index]
                frame.time_base = Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def decoded_frames(path: Path) -> Iterator[tuple[float, Frame]]:
    """Every frame of ``path`` as ``(seconds, RGB)``."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb = cast(Frame, frame.to_ndarray(format="rgb24"))
            yield float(frame.time or 0.0), rgb


def transcode(
    source: Path,
    target: Path,
    *,
    transform: Callable[[Frame], Frame] | None = None,
    fps: float = 30,
    keep_every: int = 1,
    start: float = 0.0,
    end: float = float("inf"),
    bit_rate: int | None = None,
) -> Path:
    """Decode ``source`` and re-encode a modified copy, as an uploader's editing tool would."""
    selected = (
        transform(rgb) if transform else rgb
        for index, (seconds, rgb) in enumerate(decoded_frames(source))
        if start <= seconds < end and index % keep_every == 0
    )
    return write_video(target, selected, fps=fps, bit_rate=bit_rate)


def resize_half(rgb: Frame) -> Frame:
    h, w = (rgb.shape[0] // 2) * 2, (rgb.shape[1] // 2) * 2
    blocks = rgb[:h, :w].reshape(h // 2, 2, w // 2, 2, 3).astype(np.uint16)
    half: Frame = (blocks.mean(axis=(1, 3)) + 0.5).astype(np.uint8)
    return half


def letterbox(rgb: Frame, bar: int = 40, colour: int = 0) -> Frame:
    h, w = rgb.shape[:2]
    out = np.full((h + 2 * bar, w, 3), colour, dtype=np.uint8)
    out[bar : bar + h] = rgb
    return out

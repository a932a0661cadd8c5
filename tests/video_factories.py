"""Generated benign test videos (the demo's generator, re-exported for tests and benchmarks)."""

from brightline.demo.standin_videos import (
    Frame,
    decoded_frames,
    letterbox,
    pink_noise,
    resize_half,
    synthetic_frames,
    transcode,
    write_video,
)

__all__ = [
    "Frame",
    "decoded_frames",
    "letterbox",
    "pink_noise",
    "resize_half",
    "synthetic_frames",
    "transcode",
    "write_video",
]

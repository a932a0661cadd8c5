"""Video hashing throughput: seconds of video hashed per wall-clock second, and peak memory.

Generates benign H.264 30 fps test videos (moving shapes over 1/f noise, the generator of
``brightline.demo.standin_videos``) at the requested heights, then hashes each one in a fresh child
process so that peak RSS (``ru_maxrss``) belongs to that one hash alone. When the ``vpdq`` package
can be imported by ``--vpdq-python`` (default: this interpreter), the reference hashes the same
files in the same run for a speed ratio.

    .venv/bin/python benchmarks/video_benchmark.py --heights 480 720 --seconds 30
    .venv/bin/python benchmarks/video_benchmark.py --vpdq-python /tmp/probe/venv/bin/python
    .venv/bin/python benchmarks/video_benchmark.py --long-minutes 120   # memory on 2 hours
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WIDTHS = {360: 640, 480: 854, 720: 1280, 1080: 1920}


def _child_brightline(path: str) -> dict[str, float]:
    from brightline.signals.video import hash_video_file

    start = time.perf_counter()
    result = hash_video_file(Path(path), max_decode_seconds=86_400)  # long files: no budget
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "frames": len(result.frames),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    """VmHWM of this process: unlike ``ru_maxrss``, not inherited from the parent over exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_VPDQ_CHILD = """
import json, sys, time
import vpdq
start = time.perf_counter()
hashes = vpdq.computeHash(sys.argv[1])
elapsed = time.perf_counter() - start
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(json.dumps({"seconds": elapsed, "frames": len(hashes), "peak_rss_mb": int(hwm) / 1024}))
"""


def _run_child(command: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _vpdq_available(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import vpdq"], capture_output=True, check=False)
    return probe.returncode == 0


def _generate(directory: Path, height: int, seconds: float) -> Path:
    sys.path.insert(0, str(REPO))
    from brightline.demo.standin_videos import synthetic_frames, write_video

    width = WIDTHS.get(height, height * 16 // 9 // 2 * 2)
    path = directory / f"bench_{height}p.mp4"
    write_video(path, synthetic_frames(height, width, height, 30, seconds), fps=30)
    return path


def _long_video(directory: Path, minutes: int) -> Path:
    """A ``minutes``-long 1080p30 H.264 file: one generated minute, its packets remuxed end to
    end (encoding two hours would take longer than hashing them)."""
    import av

    segment = _generate(directory, 1080, 60.0)
    path = directory / f"long_{minutes}min_1080p.mp4"
    with av.open(str(segment)) as source:
        stream = source.streams.video[0]
        packets = [packet for packet in source.demux(stream) if packet.size]
        step = round(60 / stream.time_base)
        with av.open(str(path), "w") as out:
            target = out.add_stream_from_template(stream)
            for copy in range(minutes):
                for packet in packets:
                    clone = av.Packet(bytes(packet))
                    clone.pts = packet.pts + copy * step
                    clone.dts = packet.dts + copy * step
                    clone.is_keyframe = packet.is_keyframe
                    clone.time_base = stream.time_base
                    clone.stream = target
                    out.mux(clone)
    segment.unlink()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heights", type=int, nargs="+", default=[480, 720, 1080])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each test video")
    parser.add_argument("--repeat", type=int, default=2, help="runs per file; the best is kept")
    parser.add_argument("--vpdq-python", default=sys.executable)
    parser.add_argument(
        "--long-minutes",
        type=int,
        default=0,
        help="instead: hash one 1080p file this many minutes long and report its peak memory",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child_brightline(args.child)))
        return
    if args.long_minutes:
        with tempfile.TemporaryDirectory() as scratch:
            path = _long_video(Path(scratch), args.long_minutes)
            result = _run_child([sys.executable, __file__, "--child", str(path)])
        print("| length | frames | video s / wall s | peak RSS MB |")
        print("|---|---|---|---|")
        print(
            f"| {args.long_minutes} min 1080p30 | {int(result['frames'])} | "
            f"{args.long_minutes * 60 / result['seconds']:.1f} | {result['peak_rss_mb']:.0f} |"
        )
        return

    with_vpdq = _vpdq_available(args.vpdq_python)
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{args.seconds:g} s H.264 30 fps per file, best of {args.repeat}"
    )
    header = "| resolution | ours: video s / wall s | ours: peak RSS MB | frames |"
    if with_vpdq:
        header += " vpdq: video s / wall s | vpdq: peak RSS MB | ours / vpdq speed |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    with tempfile.TemporaryDirectory() as scratch:
        for height in args.heights:
            path = _generate(Path(scratch), height, args.seconds)
            ours = min(
                (
                    _run_child([sys.executable, __file__, "--child", str(path)])
                    for _ in range(args.repeat)
                ),
                key=lambda r: r["seconds"],
            )
            row = (
                f"| {height}p | {args.seconds / ours['seconds']:.1f} | "
                f"{ours['peak_rss_mb']:.0f} | {int(ours['frames'])} |"
            )
            if with_vpdq:
                ref = min(
                    (
                        _run_child([args.vpdq_python, "-c", _VPDQ_CHILD, str(path)])
                        for _ in range(args.repeat)
                    ),
                    key=lambda r: r["seconds"],
                )
                row += (
                    f" {args.seconds / ref['seconds']:.1f} | {ref['peak_rss_mb']:.0f} | "
                    f"{ref['seconds'] / ours['seconds']:.2f} |"
                )
            print(row, flush=True)


if __name__ == "__main__":
    main()

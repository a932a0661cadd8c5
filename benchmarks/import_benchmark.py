"""Import throughput and memory: a generated plain PDQ list through `brightline bank import`.

Compares, in the same run, Brightline's import (parse, validate, de-duplicate, insert in one
transaction) against a floor: bare ``sqlite3.executemany`` of the same values into an indexed
table. Memory is the peak RSS of the import child process, which must not grow with the file.

    python benchmarks/import_benchmark.py --lines 1000000 10000000
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from brightline.demo.standins import standin_image


def make_list(path: Path, lines: int) -> None:
    rng = random.Random(lines)
    with path.open("w") as out:
        for _ in range(lines):
            out.write(f"{rng.getrandbits(256):064x}\n")


def time_match(home: Path, image: Path) -> float:
    """Seconds for one `brightline match` process (index sync or load included)."""
    env = os.environ | {"BRIGHTLINE_HOME": str(home)}
    env.pop("BRIGHTLINE_DATABASE_URL", None)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "brightline", "match", str(image)],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def run_import(list_path: Path, home: Path) -> tuple[float, float]:
    env = os.environ | {"BRIGHTLINE_HOME": str(home)}
    env.pop("BRIGHTLINE_DATABASE_URL", None)
    brightline = [sys.executable, "-m", "brightline"]
    subprocess.run(
        [*brightline, "bank", "create", "BENCH"], env=env, check=True, capture_output=True
    )
    started = time.perf_counter()
    child = subprocess.Popen(
        [
            *brightline,
            "bank",
            "import",
            "BENCH",
            str(list_path),
            "--format",
            "plain",
            "--signal-type",
            "pdq",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, usage = os.wait4(child.pid, 0)[1:]
    seconds = time.perf_counter() - started
    return seconds, usage.ru_maxrss / 1024


def run_floor(list_path: Path, db_path: Path) -> float:
    started = time.perf_counter()
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE e (id INTEGER PRIMARY KEY, v TEXT, UNIQUE(v))")
    with list_path.open() as lines, connection:
        connection.executemany(
            "INSERT OR IGNORE INTO e (v) VALUES (?)", ((line.strip(),) for line in lines)
        )
    connection.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, nargs="+", default=[1_000_000])
    args = parser.parse_args()
    rows = []
    for lines in args.lines:
        with tempfile.TemporaryDirectory() as tmp:
            list_path = Path(tmp) / "list.txt"
            make_list(list_path, lines)
            floor = run_floor(list_path, Path(tmp) / "floor.db")
            seconds, peak_mb = run_import(list_path, Path(tmp) / "home")
            image = Path(tmp) / "query.jpg"
            standin_image(1).save(image, quality=90)
            first = time_match(Path(tmp) / "home", image)
            second = time_match(Path(tmp) / "home", image)
            rows.append((lines, seconds, lines / seconds, peak_mb, seconds / floor, first, second))
    header = (
        "lines",
        "import s",
        "lines/s",
        "peak RSS MB",
        "vs sqlite3",
        "1st match s",
        "2nd match s",
    )
    print(
        f"{header[0]:>12} {header[1]:>9} {header[2]:>10} {header[3]:>12} {header[4]:>11}"
        f" {header[5]:>12} {header[6]:>12}"
    )
    for lines, seconds, rate, peak_mb, ratio, first, second in rows:
        print(
            f"{lines:>12,} {seconds:>9.1f} {rate:>10,.0f} {peak_mb:>12.0f} {ratio:>10.1f}x"
            f" {first:>12.2f} {second:>12.2f}"
        )
    print("1st match builds the PDQ index from the database and saves it; 2nd loads it.")
    print(f"(self peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()

"""Evidence vault and chain-of-custody throughput, each against a plain baseline in the same run.

Run from the repository root::

    python benchmarks/evidence_benchmark.py                       # the table in docs/evidence.md
    python benchmarks/evidence_benchmark.py --megabytes 64 --entries 2000 --repeats 3

Vault: ``EvidenceStore.put_file`` (SHA-256 pass, then AES-256-GCM per chunk with a wrapped
per-object data key) and a full read back (decrypt and check every chunk), against copying the
same file with ``shutil.copyfile`` (then ``fsync``: the vault's writes are durable too) and
against hashing it once with SHA-256; the ratios say what the encryption and the second pass
cost. Custody: ``record_custody`` appends (hash chain + HMAC, one transaction each, as the
services write them) and ``verify_custody`` over the whole log, against appending the same rows
without the chain and reading them back with a plain query.
SQLite in a temporary directory; every figure is the median of ``--repeats`` runs. The content
is random bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from brightline.custody import CustodyEvent, record_custody, verify_custody
from brightline.evidence.store import EvidenceStore
from brightline.storage import create_engine_for, session_factory, upgrade_database


def _median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _vault_rows(work: Path, megabytes: int, repeats: int) -> list[tuple[str, float, str]]:
    source = work / "content.bin"
    with source.open("wb") as handle:
        for _ in range(megabytes):
            handle.write(os.urandom(1 << 20))
    store_counter = iter(range(1_000_000))

    def put() -> str:
        # A new vault each time: put_file is idempotent and would skip a stored object.
        store = EvidenceStore(work / f"vault-{next(store_counter)}", os.urandom(32))
        return store.put_file(source)

    def copy() -> None:
        # Durable like the vault's writes: flushed to disk before it counts as stored.
        target = work / "copy.bin"
        shutil.copyfile(source, target)
        with target.open("rb+") as handle:
            os.fsync(handle.fileno())

    def sha256() -> str:
        digest = hashlib.sha256()
        with source.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    reader = EvidenceStore(work / "vault-read", os.urandom(32))
    ref = reader.put_file(source)

    def read_back() -> int:
        return sum(len(chunk) for chunk in reader.iter_chunks(ref))

    put_s = _median_seconds(put, repeats)
    read_s = _median_seconds(read_back, repeats)
    copy_s = _median_seconds(copy, repeats)
    sha_s = _median_seconds(sha256, repeats)
    rate = megabytes / put_s
    return [
        (
            "vault put_file (encrypt)",
            rate,
            f"takes {put_s / copy_s:.1f}x copy+fsync, {put_s / sha_s:.1f}x sha256",
        ),
        ("vault read (decrypt)", megabytes / read_s, f"takes {read_s / copy_s:.1f}x copy+fsync"),
        ("baseline: shutil.copyfile + fsync", megabytes / copy_s, ""),
        ("baseline: sha256 of the file", megabytes / sha_s, ""),
    ]


def _custody_rows(work: Path, entries: int, repeats: int) -> list[tuple[str, float, str]]:
    key = os.urandom(32)
    counter = iter(range(1_000_000))

    def fresh_sessions() -> sessionmaker[Session]:
        engine = create_engine_for(f"sqlite:///{work / f'custody-{next(counter)}.db'}")
        upgrade_database(engine)
        return session_factory(engine)

    def append_chained(sessions: sessionmaker[Session]) -> None:
        for number in range(entries):
            with sessions.begin() as session:
                record_custody(
                    session=session,
                    key=key,
                    event=CustodyEvent.ACCESSED,
                    actor="benchmark",
                    object_ref="sha256:" + "0" * 64,
                    reason=f"benchmark access {number}",
                )

    def append_plain(sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            session.execute(text("CREATE TABLE IF NOT EXISTS plain_log (seq INTEGER, reason TEXT)"))
        for number in range(entries):
            with sessions.begin() as session:
                session.execute(
                    text("INSERT INTO plain_log VALUES (:seq, :reason)"),
                    {"seq": number, "reason": f"benchmark access {number}"},
                )

    chained_s = []
    plain_s = []
    verify_s = []
    scan_s = []
    for _ in range(repeats):
        sessions = fresh_sessions()
        started = time.perf_counter()
        append_chained(sessions)
        chained_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        append_plain(sessions)
        plain_s.append(time.perf_counter() - started)
        with sessions() as session:
            started = time.perf_counter()
            result = verify_custody(session=session, key=key)
            verify_s.append(time.perf_counter() - started)
            if not result.ok or result.checked != entries:
                raise SystemExit("the benchmark's own custody log did not verify")
            started = time.perf_counter()
            session.execute(text("SELECT * FROM custody_log ORDER BY seq")).all()
            scan_s.append(time.perf_counter() - started)
    chained = statistics.median(chained_s)
    plain = statistics.median(plain_s)
    verify = statistics.median(verify_s)
    scan = statistics.median(scan_s)
    return [
        (
            "custody append (chain + HMAC), entries/s",
            entries / chained,
            f"takes {chained / plain:.1f}x plain insert",
        ),
        ("custody verify, entries/s", entries / verify, f"takes {verify / scan:.1f}x plain select"),
        ("baseline: plain insert, rows/s", entries / plain, ""),
        ("baseline: plain select, rows/s", entries / scan, ""),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=256, help="size of the vault test file")
    parser.add_argument("--entries", type=int, default=5000, help="custody entries to append")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.megabytes < 1 or args.entries < 1 or args.repeats < 1:
        parser.error("sizes and repeats must be positive")
    with tempfile.TemporaryDirectory(prefix="brightline-evidence-bench-") as directory:
        work = Path(directory)
        rows = _vault_rows(work, args.megabytes, args.repeats)
        rows += _custody_rows(work, args.entries, args.repeats)
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.megabytes} MB file, "
        f"{args.entries} custody entries, median of {args.repeats} runs"
    )
    print()
    print("| what | rate (MB/s or entries/s) | time against the baseline |")
    print("|---|---:|---|")
    for name, rate, versus in rows:
        print(f"| {name} | {rate:,.0f} | {versus} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Term banks: time to import, export and load a large list, on a fresh SQLite database.

Terms are generated placeholder nonsense (pronounceable syllables), a tenth of them outside
ASCII so that validation goes through the normaliser. The import is one transaction (all or
nothing); loading is what ``text scan --bank`` and ``/v1/text/match`` do on a new version.

    python benchmarks/term_bank_benchmark.py [--terms 10000] [--url sqlite:///...]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import time
from pathlib import Path

from brightline.storage import create_engine_for, session_factory, upgrade_database
from brightline.text.matching import TermMatcher
from brightline.text.term_banks import (
    add_term,
    create_list,
    export_terms,
    import_terms,
    load_term_list,
)

SYLLABLES = ["zor", "blax", "quen", "vik", "mi", "va", "du", "te", "po", "lu", "ka", "ry", "nö"]


def _terms(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        found.setdefault(word + str(len(found)), None)
    return list(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=10_000)
    parser.add_argument("--url", default=None, help="Database URL (default: a temporary SQLite).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = create_engine_for(url)
        upgrade_database(engine)
        sessions = session_factory(engine)
        terms = _terms(args.terms)
        data = ("term,mode,weight\n" + "".join(f"{t},token,1\n" for t in terms)).encode()
        timings: dict[str, float] = {}

        started = time.perf_counter()
        with sessions.begin() as session:
            create_list(session=session, name="bench", actor="bench")
            result = import_terms(
                session=session, list_name="bench", data=data, format="csv", actor="bench"
            )
        timings["import (one transaction)"] = time.perf_counter() - started

        started = time.perf_counter()
        with sessions.begin() as session:
            add_term(session=session, list_name="bench", text="zorblax", actor="bench")
        timings["add one term"] = time.perf_counter() - started

        started = time.perf_counter()
        with sessions.begin() as session:
            exported = export_terms(session=session, list_name="bench", format="csv")
        timings["export CSV"] = time.perf_counter() - started

        started = time.perf_counter()
        with sessions.begin() as session:
            export_terms(session=session, list_name="bench", format="csv", version=1)
        timings["export an earlier version"] = time.perf_counter() - started

        started = time.perf_counter()
        with sessions.begin() as session:
            term_list = load_term_list(session=session, name="bench")
        timings["load into a TermList"] = time.perf_counter() - started

        started = time.perf_counter()
        TermMatcher([term_list])
        timings["build the matcher"] = time.perf_counter() - started
        engine.dispose()

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"Python {platform.python_version()}, {platform.machine()}, one core "
        f"(load average {load}); {result.added:,} terms imported, "
        f"{len(exported):,} bytes exported; database {url.split(':')[0]}."
    )
    print()
    print("| step | seconds |")
    print("|---|---:|")
    for step, seconds in timings.items():
        print(f"| {step} | {seconds:.3f} |")


if __name__ == "__main__":
    main()

"""The directory layout ``brightline clearinghouse import`` reads (and ``synth`` writes).

It mirrors the intake API, one report at a time::

    DIR/<name>.xml                    the <report>, as it would be POSTed to /submit
    DIR/<name>/<file>                 each file, as it would be uploaded (optional directory)
    DIR/<name>/<file>.fileinfo.xml    that file's <fileDetails> (optional); any reportId and
                                      fileId in it are replaced by the ids the intake hands out

Reports are taken in name order, and a report's files in name order. Pure (no database), so the
synthetic data generator can write it without the intake's storage.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from brightline.clearinghouse.cybertip_xml import file_details_xml, report_xml

if TYPE_CHECKING:
    from brightline.clearinghouse.synth import SynthDataset

REPORT_SUFFIX = ".xml"
FILEINFO_SUFFIX = ".fileinfo.xml"


def write_report_entry(
    directory: Path,
    name: str,
    report: bytes,
    files: Iterable[tuple[str, bytes, bytes | None]] = (),
) -> None:
    """Write one report of the layout: ``files`` are (file name, bytes, ``<fileDetails>``)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}{REPORT_SUFFIX}").write_bytes(report)
    folder = directory / name
    for file_name, data, details in files:
        folder.mkdir(exist_ok=True)
        (folder / file_name).write_bytes(data)
        if details is not None:
            (folder / f"{file_name}{FILEINFO_SUFFIX}").write_bytes(details)


def write_cybertip_directories(dataset: SynthDataset, directory: Path) -> int:
    """``brightline synth --cybertip-dir``: ``directory/cybertip/<provider>/`` in this layout,
    one directory per provider (each imported with ``--provider`` its name).

    The files are linked (or copied) from ``directory/files/``, which ``write_dataset(...,
    files=True)`` writes first. Returns the number of reports written.
    """
    suffix = ".png" if dataset.config.stand_ins == "images" else ".bin"
    sources = directory / "files"
    written = 0
    for report in dataset.reports:
        files = []
        for file in report.files:
            if file.md5 is None:
                continue
            name = f"{file.file_id}{suffix}"
            files.append((name, sources / f"{file.md5}{suffix}", file_details_xml(report, file)))
        target = directory / "cybertip" / report.provider
        write_report_entry(target, report.report_id, report_xml(report))
        for name, source, details in files:
            folder = target / report.report_id
            folder.mkdir(exist_ok=True)
            _link_or_copy(source, folder / name)
            (folder / f"{name}{FILEINFO_SUFFIX}").write_bytes(details)
        written += 1
    return written


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


__all__ = [
    "FILEINFO_SUFFIX",
    "REPORT_SUFFIX",
    "write_cybertip_directories",
    "write_report_entry",
]

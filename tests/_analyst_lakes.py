"""Lakes for the analysts' side tests (catalog views, ``cablelake sql``, the dashboard).

* :func:`synthetic_lake` writes a small lake straight through the lake stage (no parsing), with known counts.
* :func:`corpus_lake` builds a lake from the real corpus with ``etl.pipeline.run`` once per test session
  (shared by tests/catalog, tests/cli and tests/dashboard through a module-level cache).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from etl import catalog
from etl.lake import LakePaths, write_parquet
from etl.schema import schema, to_table

CLASSIFICATIONS = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "SECRET//NOFORN", "CONFIDENTIAL//NOFORN"]
ORIGINS = ["AMEMBASSY MOSCOW", "AMEMBASSY PARIS", "SECSTATE WASHDC", "AMCONSUL JERUSALEM", "USMISSION USNATO"]
TAGS = ["PREL", "PGOV", "ECON", "RS", "FR", "KNNP", "MARR", "PHUM"]
RUN_ID = "20240101T000000Z-abc123"


def cable_rows(n: int = 120, seed: int = 7, run_id: str = RUN_ID) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    rows = []
    ingested = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(n):
        sent = datetime(2005, 1, 1, tzinfo=UTC) + timedelta(days=rnd.randrange(0, 6 * 365), hours=rnd.randrange(24))
        origin = rnd.choice(ORIGINS)
        post = origin.split()[-1]
        rid = f"{sent.year % 100:02d}{post}{i + 1}"
        tags = rnd.sample(TAGS, rnd.randrange(1, 4))
        decl = date(sent.year + 10, sent.month, min(sent.day, 28)) if rnd.random() < 0.7 else None
        warnings = ["subject_present"] if rnd.random() < 0.1 else []
        new_style = i % 2 == 0  # odd rows look like rows written before the list columns existed
        cited = [rows[j]["reference_id"] for j in range(max(0, i - 3), i)] + ([f"99NOWHERE{i}"] if i % 5 == 0 else [])
        extra: dict[str, Any] = {}
        if new_style:
            extra = {
                "tag_details": [{"tag": t, "kind": "geographic" if len(t) == 2 else "subject", "raw": t} for t in tags],
                "to_addressees": [{"routing_indicator": "RUEHC", "address": "SECSTATE WASHDC", "precedence": "IMMEDIATE",
                                   "mcn": "1234", "excluded": []}],
                "info_addressees": [{"routing_indicator": "RUEHXX", "address": f"AMEMBASSY {p}", "precedence": None,
                                     "mcn": None, "excluded": []} for p in ("LONDON", "BERLIN")],
                "references": [{"letter": chr(65 + k), "raw": c, "reference_id": c, "kind": "cable"}
                               for k, c in enumerate(cited)],
                "paragraphs": [{"number": k + 1, "portion_mark": "C", "text": f"Paragraph {k + 1}."} for k in range(3)],
            }
        rows.append(
            {
                "reference_id": rid,
                "reference_id_source": "metadata",
                "dtg": f"{sent:%d%H%MZ} {sent:%b %y}".upper(),
                "sent_at": sent,
                "sent_at_source": "dtg",
                "precedence": rnd.choice("OPR"),
                "origin": origin,
                "classification": rnd.choice(CLASSIFICATIONS),
                "decl_raw": decl.strftime("%m/%d/%Y") if decl else "N/A",
                "decl_date": decl,
                "tags_raw": ", ".join(tags),
                "tags": tags,
                "subject": f"Subject number {i + 1} about {tags[0]} <script>alert(1)</script>",
                "body": "1. (C) Text.",
                "dq_warnings": warnings,
                "source_uri": "/dumps/synthetic.txt",
                "source_format": "text",
                "run_id": run_id,
                "ingested_at": ingested,
                "parser_version": "test",
                "year": sent.year,
                **extra,
            }
        )
    return rows


def quarantine_rows(run_id: str = RUN_ID) -> list[dict[str, Any]]:
    ingested = datetime(2024, 1, 1, tzinfo=UTC)
    reasons = [["dtg_format"], ["dtg_format", "decl_date_valid"], ["read:truncated_row"], ["parse_error"]]
    return [
        {
            "reference_id": f"09BAD{i}" if i % 2 else None,
            "reasons": r,
            "details": ["x"] * len(r),
            "stage": "validate",
            "source_uri": "/dumps/synthetic.txt",
            "run_id": run_id,
            "ingested_at": ingested,
            "year": 2009 if i % 2 else None,
        }
        for i, r in enumerate(reasons)
    ]


def run_row(cables: int, quarantined: int, run_id: str = RUN_ID) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "started_at": datetime(2024, 1, 1, tzinfo=UTC),
        "finished_at": datetime(2024, 1, 1, 0, 1, tzinfo=UTC),
        "status": "published",
        "schema_version": "1.0.0",
        "inputs": [{"uri": "/dumps/synthetic.txt", "sha256": "0" * 64, "size": 1, "records": cables + quarantined}],
        "records_found": cables + quarantined,
        "cables": cables,
        "quarantined": quarantined,
        "per_format": json.dumps({"text": cables + quarantined}),
        "per_reason": '{"dtg_format": 2}',
        "per_rule": '{"subject_present": {"severity": "warning", "failed": 3}, '
        '"dtg_format": {"severity": "error", "failed": 2}}',
        "timings": '{"parse": 1.0}',
    }


def _write_partitioned(root: Path, table: str, data: pa.Table) -> None:
    """Hive ``year=`` partitions written directly (no commit record: the catalog then globs the folder)."""
    for year in pc.unique(data.column("year")).to_pylist():
        years = data.column("year")
        part = data.filter(pc.is_null(years) if year is None else pc.equal(years, year)).drop_columns(["year"])
        folder = "__HIVE_DEFAULT_PARTITION__" if year is None else str(year)
        write_parquet(part, root / table / f"year={folder}" / f"{RUN_ID}-0000.parquet")


def synthetic_lake(root: Path, n: int = 120, old_partition: bool = True) -> Path:
    """A lake with ``n`` cables, 4 quarantined records, one run, and (optionally) an "old" partition whose
    files lack most columns (written before they were added to the schema)."""
    paths = LakePaths(root)
    for table, rows in (("cables", cable_rows(n)), ("quarantine", quarantine_rows())):
        _write_partitioned(root, table, to_table(rows, table))
    if old_partition:
        old = pa.table(
            {
                "reference_id": ["99OLDPOST1"],
                "origin": ["AMEMBASSY OLDPOST"],
                "source_uri": ["/dumps/old.txt"],
                "run_id": ["19990101T000000Z-old000"],
            }
        )
        write_parquet(old, root / "cables" / "year=1999" / "old-0000.parquet")
    write_parquet(to_table([run_row(n, 4)], "runs"), paths.runs / f"{RUN_ID}.parquet")
    catalog.refresh(root)
    return root


_CORPUS_LAKES: dict[str, Path] = {}


def corpus_lake(corpus: Path, tmp_root: Path) -> Path:
    """A lake built from the whole corpus with ``etl.pipeline.run`` (once per session)."""
    key = str(corpus)
    if key not in _CORPUS_LAKES:
        from etl.pipeline import run

        lake = tmp_root / "corpus-lake"
        run([str(corpus)], lake)
        _CORPUS_LAKES[key] = lake
    return _CORPUS_LAKES[key]


def cables_schema_names() -> list[str]:
    return schema("cables").names

"""Step order_for_dedup (between parse and validate): best copy first among a run's copies of a cable.

The validation's ``reference_id_unique`` rule keeps the *first* row of an id and sets the others aside; the
lake's rule is "the most complete copy wins" (:mod:`etl.lake._merge`). Moving every copy of an id seen more
than once in the run into one shard that validation reads first, best copy first, makes the two agree: the
copy validation keeps (and computes ``dq_warnings`` for) is the one the lake keeps. The other copies come
back from quarantine at publish and end as ``duplicate`` rows.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl.lake import ParquetSink, iter_parquet, write_parquet
from etl.lake._merge import keys, rank_order
from etl.pipeline._staging import RunStaging

FIRST = "!dups"  # sorts before the hex shard names


def order_for_dedup(lake: str | Path, run_id: str) -> int:
    """Move the run's repeated cables into ``parsed/!dups.parquet``, best copy first; returns rows moved."""
    staging = RunStaging(lake, run_id)
    files = [p for p in staging.all_parsed_files() if p.stem != FIRST]
    counts: Counter[str] = Counter()
    for p in files:
        counts.update(k for k in keys(pq.read_table(p, columns=_key_columns(p))) if k is not None)
    repeated = {k for k, n in counts.items() if n > 1}
    if not repeated:
        return 0
    moved: list[pa.Table] = []
    for p in files:
        if not any(k in repeated for k in keys(pq.read_table(p, columns=_key_columns(p)))):
            continue
        reader = pq.ParquetFile(p)
        with ParquetSink(p.parent, p.name, reader.schema_arrow) as writer:  # replaces the shard atomically
            for table in iter_parquet(reader, 2_000):  # bounded memory, whatever the shard size
                hit = pa.array([k in repeated for k in keys(table)], pa.bool_())
                moved.append(table.filter(hit))
                writer.write(table.filter(pc.invert(hit)))
    dups = pa.concat_tables(moved)
    write_parquet(dups.take(pa.array(rank_order(dups), pa.int64())), staging.parsed(FIRST))
    return dups.num_rows


def _key_columns(path: Path) -> list[str]:
    return [c for c in ("reference_id", "canonical_id") if c in pq.read_schema(path).names]

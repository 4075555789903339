"""OpenLineage for the cablelake DAGs (Airflow glue only; the facts come from ``etl.pipeline.lineage_facts``).

The OpenLineage provider asks an operator for its lineage through ``get_openlineage_facets_on_complete``
(its ``DefaultExtractor``); TaskFlow's ``@task`` operator has no such method, and hook lineage carries no
facets. So :func:`task` is ``@task`` with an operator class that keeps the callable's return value and
turns it into OpenLineage datasets when the task completes:

* inputs: the dumps read (``file`` namespace and absolute path, or ``s3://bucket`` / ``https://host`` and
  the path), with an ``inputStatistics`` facet (records read, bytes);
* outputs: the lake tables written (namespace ``file``, the table's folder), with ``outputStatistics``
  (rows the task added) and, on ``cables``, ``dataQualityAssertions`` (one assertion per rule of the
  Great Expectations suite: success when no row failed it);
* ``validate_run``: its input ``cables`` carries the same assertions as an input facet (where the
  OpenLineage spec puts ``dataQualityAssertions``: on the dataset a check read).

Emission follows the provider's configuration (``[openlineage] transport``, e.g. HTTP to Marquez); with
none configured the provider is disabled and nothing is built. Nothing here runs at DAG parse time
beyond defining the decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from airflow.providers.standard.decorators.python import _PythonDecoratedOperator
from airflow.sdk.bases.decorator import task_decorator_factory


def dataset_id(uri: str) -> tuple[str, str]:
    """OpenLineage (namespace, name) of a dump URI or a local path (OpenLineage's naming conventions)."""
    parts = urlsplit(uri)
    if parts.scheme in ("", "file"):
        return "file", parts.path if parts.scheme else uri
    if parts.scheme in ("s3", "s3a", "gs", "gcs", "abfs", "az"):
        return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")
    return f"{parts.scheme}://{parts.netloc}", parts.path or "/"


def operator_lineage(facts: dict[str, list[dict[str, Any]]]) -> Any:
    """``OperatorLineage`` of a step's lineage facts."""
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.generated.data_quality_assertions_dataset import (
        Assertion,
        DataQualityAssertionsDatasetFacet,
    )
    from openlineage.client.generated.input_statistics_input_dataset import InputStatisticsInputDatasetFacet
    from openlineage.client.generated.output_statistics_output_dataset import (
        OutputStatisticsOutputDatasetFacet,
    )

    assertions = [
        Assertion(assertion=q["expectation"] or q["rule"], success=q["success"], column=q["column"],
                  severity=q["severity"], name=q["rule"], actual=str(q["failed"]), expected="0")
        for q in facts["quality"]
    ]
    inputs = []
    for i in facts["inputs"]:
        stats: dict[str, Any] = {}
        if i.get("records") is not None:
            stats["inputStatistics"] = InputStatisticsInputDatasetFacet(rowCount=i["records"], size=i.get("size"))
        if assertions and i.get("table") == "cables":  # what the validation read (an input facet in the spec)
            stats["dataQualityAssertions"] = DataQualityAssertionsDatasetFacet(assertions=assertions)
        inputs.append(InputDataset(*dataset_id(i["uri"]), inputFacets=stats))
    outputs = []
    for o in facts["outputs"]:
        ofacets: dict[str, Any] = {}
        if o.get("rows") is not None:
            ofacets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(rowCount=o["rows"])
        dfacets: dict[str, Any] = {}
        if assertions and o.get("table") == "cables":
            dfacets["dataQualityAssertions"] = DataQualityAssertionsDatasetFacet(assertions=assertions)
        outputs.append(OutputDataset(*dataset_id(o["uri"]), facets=dfacets, outputFacets=ofacets))
    return OperatorLineage(inputs=inputs, outputs=outputs)


class LineagePythonOperator(_PythonDecoratedOperator):
    """``@task``'s operator, plus the task's OpenLineage inputs/outputs from its return value."""

    _cablelake_result: Any = None

    def execute(self, context: Any) -> Any:
        self._cablelake_result = super().execute(context)
        return self._cablelake_result

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        from etl.pipeline import lineage_facts

        return operator_lineage(lineage_facts(self.task_id, self._cablelake_result))


def task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """``@task`` (same arguments) whose task reports OpenLineage datasets for the step it wraps."""
    return task_decorator_factory(
        python_callable=python_callable, decorated_operator_class=LineagePythonOperator, **kwargs
    )

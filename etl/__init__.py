"""cablelake: batch ETL for diplomatic cable dumps.

Stages, data flowing one way (no stage imports a later one):

    sources -> parse -> schema -> validate -> lake -> catalog -> pipeline -> cli

``etl`` never imports Airflow; ``dags/`` only wires the functions of :mod:`etl.pipeline`.
"""

__version__ = "0.1.0"

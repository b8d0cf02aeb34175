"""Apache Airflow provider for VTEX OMS: the order feed and start handling, then invoice and tracking
notifications, on VTEX's standard or PII route set.

Importing the package is cheap on purpose (Airflow imports providers while parsing DAGs): the hook,
operators and models live in their own modules and are imported where used.
"""

from airflow_provider_vtex.get_provider_info import __version__, get_provider_info

__all__ = ["__version__", "get_provider_info"]

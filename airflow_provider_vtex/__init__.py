"""Apache Airflow provider for VTEX OMS: invoice, tracking-number and tracking-status notifications.

Importing the package is cheap on purpose (Airflow imports providers while parsing DAGs): the hook,
operators and models live in their own modules and are imported where used.
"""

from airflow_provider_vtex.get_provider_info import __version__, get_provider_info

__all__ = ["__version__", "get_provider_info"]

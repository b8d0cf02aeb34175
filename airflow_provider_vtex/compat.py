"""The one place that knows where Airflow 2.10+ and Airflow 3.x keep the names this provider uses.

Airflow 3 moved the public authoring API to ``airflow.sdk``; Airflow 2 keeps it under ``airflow.models``,
``airflow.hooks`` and ``airflow.sensors``. Every other module imports these names from here, so supporting
a new Airflow version means changing this file only.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from airflow import __version__ as AIRFLOW_VERSION

AIRFLOW_V_3_0_PLUS = int(AIRFLOW_VERSION.split(".")[0]) >= 3

if TYPE_CHECKING or AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import BaseHook, BaseOperator, BaseSensorOperator, PokeReturnValue
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
    )
else:  # pragma: no cover - exercised by the Airflow 2 CI run
    from airflow.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
    )
    from airflow.hooks.base import BaseHook
    from airflow.models import BaseOperator
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue

if TYPE_CHECKING:
    from airflow.sdk import Context as Context  # operators' execute() signature; types only


def mask_secret(secret: str) -> None:
    """Register ``secret`` with Airflow's secrets masker, so task logs print ``***`` in its place."""
    name = "airflow.sdk.log" if AIRFLOW_V_3_0_PLUS else "airflow.utils.log.secrets_masker"
    module: Any = importlib.import_module(name)
    module.mask_secret(secret)


__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "PokeReturnValue",
    "mask_secret",
]

"""The one place that knows where each supported Airflow (2.11 to 3.3) keeps the names this provider uses.

Every other module imports Airflow names from here, so supporting a new Airflow version means changing
this file only. Each name is imported from where it exists, newest location first, by trying the import
(a feature test), never by comparing version numbers: Airflow moved names into ``airflow.sdk`` over
several minor releases, so the major version alone does not say where a name lives. Checked against the
installed source of 2.10.5, 2.11.2, 3.0.6, 3.1.8, 3.2.2 and 3.3.2:

=========================  ===========================================  =================================
name                       newest location (first version with it)     fallback (older versions)
=========================  ===========================================  =================================
BaseOperator,              ``airflow.sdk`` (3.0)                        ``airflow.models`` /
BaseSensorOperator,                                                     ``airflow.sensors.base``
PokeReturnValue
BaseHook                   ``airflow.sdk`` (3.1)                        ``airflow.hooks.base`` (2.x, 3.0)
AirflowException           ``airflow.sdk.exceptions`` (3.1)             ``airflow.exceptions``
AirflowFailException,      ``airflow.sdk.exceptions`` (3.2)             ``airflow.exceptions`` (the same
AirflowNotFoundException,                                               classes the task runner catches
AirflowSkipException                                                    in 3.0 and 3.1)
mask_secret                ``airflow.sdk.log`` (3.0)                    ``airflow.sdk.execution_time.
                                                                        secrets_masker``, then
                                                                        ``airflow.utils.log.
                                                                        secrets_masker`` (2.x)
BaseTrigger, TriggerEvent  ``airflow.triggers.base`` (all)
BaseEventTrigger           ``airflow.triggers.base`` (3.0)              ``None`` on 2.x
SharedStreamProducer,      ``airflow.triggers.shared_stream`` (3.3)     ``None`` before 3.3 (no ack mode)
reject_shared_stream_event
Asset, AssetWatcher        ``airflow.sdk`` (3.0)                        ``None`` on 2.x (2.x has Datasets)
conf                       ``airflow.sdk.configuration`` (3.2)          ``airflow.configuration``
get_current_context        ``airflow.sdk`` (3.0)                        ``airflow.operators.python``
=========================  ===========================================  =================================

The trigger and asset names are imported on first use (see ``_LAZY_NAMES``); ``BaseEventTrigger``,
``Asset`` and ``AssetWatcher`` are ``None`` on Airflow 2, so code that needs them checks ``is None``
first. ``Context`` is for type annotations only. For mypy the newest locations are the truth (the
package is type-checked against the Airflow 3.3 of ``.venv``), hence the ``TYPE_CHECKING`` branches.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import (
        Asset,
        AssetWatcher,
        BaseHook,
        BaseOperator,
        BaseSensorOperator,
        PokeReturnValue,
        get_current_context,
    )
    from airflow.sdk import Context as Context  # operators' execute() signature; types only
    from airflow.sdk.configuration import conf
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSkipException,
    )
    from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent
    from airflow.triggers.shared_stream import SharedStreamProducer, reject_shared_stream_event
else:
    try:
        from airflow.sdk import BaseOperator, BaseSensorOperator, PokeReturnValue
    except ImportError:  # Airflow 2.x
        from airflow.models import BaseOperator
        from airflow.sensors.base import BaseSensorOperator, PokeReturnValue

    try:
        from airflow.sdk import get_current_context
    except ImportError:  # Airflow 2.x
        from airflow.operators.python import get_current_context

    try:
        from airflow.sdk import BaseHook
    except ImportError:  # Airflow 2.x and 3.0
        from airflow.hooks.base import BaseHook

    try:
        from airflow.sdk.exceptions import AirflowException
    except ImportError:  # Airflow 2.x and 3.0
        from airflow.exceptions import AirflowException

    try:
        from airflow.sdk.exceptions import (
            AirflowFailException,
            AirflowNotFoundException,
            AirflowSkipException,
        )
    except ImportError:  # Airflow 2.x, 3.0 and 3.1
        from airflow.exceptions import (
            AirflowFailException,
            AirflowNotFoundException,
            AirflowSkipException,
        )

    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow 2.x, 3.0 and 3.1
        from airflow.configuration import conf

#: Names imported on first use, as ``{name: (module, required)}``: importing ``airflow.triggers.base``
#: costs more than importing all the operators, and only deferrable or event-driven code needs these.
#: A name that is not ``required`` is ``None`` where its module or the name itself does not exist.
_LAZY_NAMES: dict[str, tuple[str, bool]] = {
    "BaseTrigger": ("airflow.triggers.base", True),
    "TriggerEvent": ("airflow.triggers.base", True),
    "BaseEventTrigger": ("airflow.triggers.base", False),  # 3.0+: event-driven scheduling
    "Asset": ("airflow.sdk", False),  # 3.0+ (2.x has Datasets)
    "AssetWatcher": ("airflow.sdk", False),  # 3.0+
    # 3.3+: shared streams in ack mode (the broker advances only for events Airflow stored)
    "SharedStreamProducer": ("airflow.triggers.shared_stream", False),
    "reject_shared_stream_event": ("airflow.triggers.shared_stream", False),
}


def __getattr__(name: str) -> Any:
    """Resolve the names of ``_LAZY_NAMES`` on first access (PEP 562), then keep them as module globals."""
    if name not in _LAZY_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, required = _LAZY_NAMES[name]
    try:
        value = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        if required:
            raise
        value = None
    globals()[name] = value
    return value


#: Where Airflow's secrets masker has lived, newest first.
_MASK_SECRET_MODULES = (
    "airflow.sdk.log",  # 3.0+
    "airflow.sdk.execution_time.secrets_masker",  # 3.0 (also present in 3.1-3.3)
    "airflow.utils.log.secrets_masker",  # 2.x
)


@functools.cache
def _airflow_mask_secret() -> Callable[..., None]:
    """Airflow's own ``mask_secret``, found on first use (importing the masker at DAG parse time costs)."""
    for name in _MASK_SECRET_MODULES:
        try:
            module: Any = importlib.import_module(name)
        except ImportError:
            continue
        function = getattr(module, "mask_secret", None)
        if callable(function):
            return function  # type: ignore[no-any-return]
    raise ImportError(
        "airflow_provider_vtex could not find Airflow's secrets masker (mask_secret) in any of "
        f"{', '.join(_MASK_SECRET_MODULES)}; this Airflow version is not supported (2.11 to 3.3 are)"
    )


def mask_secret(secret: str) -> None:
    """Register ``secret`` with Airflow's secrets masker, so task logs print ``***`` in its place."""
    _airflow_mask_secret()(secret)


def vtex_budget_store() -> str:
    """The provider's ``[vtex] budget_store`` (empty when unset), read at call time like the others."""
    return str(conf.get("vtex", "budget_store", fallback="") or "")


def airflow_home() -> str:
    """Airflow's home folder, where the default request-budget store lives (as Airflow resolves it)."""
    import os

    return os.path.expanduser(os.environ.get("AIRFLOW_HOME") or "~/airflow")


def default_deferrable() -> bool:
    """Airflow's ``[operators] default_deferrable`` (False when unset): the default of ``deferrable=``.

    Read at call time, not import time, so that a test or a deployment setting
    ``AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE`` is honoured.
    """
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowSkipException",
    "Asset",
    "AssetWatcher",
    "BaseEventTrigger",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "BaseTrigger",
    "PokeReturnValue",
    "SharedStreamProducer",
    "TriggerEvent",
    "airflow_home",
    "conf",
    "default_deferrable",
    "get_current_context",
    "mask_secret",
    "reject_shared_stream_event",
    "vtex_budget_store",
]

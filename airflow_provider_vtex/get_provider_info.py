"""What Airflow learns about this provider without importing it: name, hook, operators, connection form.

Airflow reads this through the ``apache_airflow_provider`` entry point. The connection form is declared
here as data (``conn-fields`` / ``ui-field-behaviour``, read by Airflow 3.2+ without importing the hook);
:class:`~airflow_provider_vtex.hooks.vtex.VtexHook` derives its fallback form methods for older Airflow
from the same constants, so the two forms cannot drift apart.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

CONN_TYPE = "vtex"
HOOK_NAME = "VTEX"
DEFAULT_CONN_ID = "vtex_default"
DEFAULT_ENVIRONMENT = "vtexcommercestable"
#: VTEX's environments, the ``{environment}`` of ``https://{account}.{environment}.com.br``: the stable one
#: every store runs on, and the beta one VTEX opens for trying releases early.
VTEX_ENVIRONMENTS = (DEFAULT_ENVIRONMENT, "vtexcommercebeta")
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 5
#: VTEX's two route sets: the standard OMS routes, and those of stores on the PII data architecture.
DATA_ARCHITECTURES = ("standard", "pii")
DEFAULT_DATA_ARCHITECTURE = "standard"

#: Relabelled, hidden and placeholder-filled standard fields of the connection form.
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "port"],
    "relabeling": {"login": "App Key", "password": "App Token", "host": "Account name"},
    "placeholders": {
        "login": "vtexappkey-mystore-ABCDEF",
        "password": "the App Token shown once when the key was created",
        "host": "mystore (from https://mystore.vtexcommercestable.com.br)",
        "environment": DEFAULT_ENVIRONMENT,
        "base_url": "optional, e.g. http://127.0.0.1:8089 for the local sandbox",
        "timeout": str(int(DEFAULT_TIMEOUT)),
        "max_retries": str(DEFAULT_MAX_RETRIES),
    },
}

#: The connection's extra fields as JSON-schema, in Airflow's ``conn-fields`` format.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "environment": {
        "label": "Environment",
        "description": "VTEX environment in the API host name; almost always vtexcommercestable.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_ENVIRONMENT},
    },
    "base_url": {
        "label": "Base URL",
        "description": (
            "Full API base URL overriding https://{account}.{environment}.com.br: for a proxy, a VTEX IO "
            "workspace or the local sandbox."
        ),
        "schema": {"type": ["string", "null"]},
    },
    "timeout": {
        "label": "Timeout",
        "description": "Seconds to wait for VTEX on each request before giving up.",
        "schema": {"type": ["number", "null"], "minimum": 0, "default": DEFAULT_TIMEOUT},
    },
    "data_architecture": {
        "label": "Data architecture",
        "description": (
            "standard: VTEX's OMS routes (/api/oms/pvt/orders/...), most stores. pii: stores on VTEX's PII data "
            "architecture (/api/orders/pvt/document/...), whose invoice payload has issuedDate and itemIndex."
        ),
        "schema": {"type": ["string", "null"], "enum": [*DATA_ARCHITECTURES, None], "default": "standard"},
    },
    "hook_secret": {
        "label": "Order hook secret",
        "description": (
            "Only for VTEX's order hook (Airflow 3): a random value of at least 24 characters that VTEX sends "
            "in a header with every notification; the receiver refuses calls without it."
        ),
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "max_requests_per_second": {
        "label": "Max requests per second",
        "description": (
            "The account's request budget: at most this many requests reach VTEX in any second, counted "
            "across every worker, the triggerer and deferred sensors (shared through [vtex] budget_store). "
            "Empty: no cap (a 429 still pauses every process of the account)."
        ),
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "max_retries": {
        "label": "Max retries",
        "description": "Retries of a request after a rate limit (429), an outage (502/503/504) or a network error.",
        "schema": {"type": ["integer", "null"], "minimum": 0, "default": DEFAULT_MAX_RETRIES},
    },
}


#: The provider's ``[vtex]`` section of Airflow's config (``airflow config list`` shows it).
CONFIG: dict[str, Any] = {
    "vtex": {
        "description": "Settings of the VTEX provider shared by every VTEX connection of the deployment.",
        "options": {
            "budget_store": {
                "description": (
                    "Where every process keeps each VTEX account's request budget and its 429 pauses. Empty: a "
                    "file under AIRFLOW_HOME, shared by every process of one machine (right for a single-machine "
                    "deployment). For workers and triggerers on several machines, a Redis URL every one of them "
                    "reaches (needs the provider's 'redis' extra), or sqlite:////path on a local disk they share."
                ),
                "version_added": "0.1.0",
                "type": "string",
                "example": "redis://redis:6379/0",
                "default": "",
            },
        },
    },
}


def _kebab(behaviour: dict[str, Any]) -> dict[str, Any]:
    return {key.replace("_", "-"): value for key, value in behaviour.items()}


def get_provider_info() -> dict[str, Any]:
    """Provider metadata, in the shape Airflow's ProvidersManager expects."""
    connection_type: dict[str, Any] = {
        "connection-type": CONN_TYPE,
        "hook-class-name": "airflow_provider_vtex.hooks.vtex.VtexHook",
        "hook-name": HOOK_NAME,
        # Read by Airflow 3.2+; older versions ignore these keys and ask the hook's form methods.
        "ui-field-behaviour": _kebab(UI_FIELD_BEHAVIOUR),
        "conn-fields": CONN_FIELDS,
    }
    return {
        "package-name": "airflow-provider-vtex",
        "name": "VTEX",
        "description": "VTEX orders from Airflow: read the order feed, start handling, notify invoices, tracking and payments.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "VTEX",
                "external-doc-url": "https://developers.vtex.com/docs/api-reference/orders-api",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": "VTEX", "python-modules": ["airflow_provider_vtex.hooks.vtex"]}],
        "operators": [
            {
                "integration-name": "VTEX",
                "python-modules": [
                    "airflow_provider_vtex.operators.invoice",
                    "airflow_provider_vtex.operators.tracking",
                    "airflow_provider_vtex.operators.bulk",
                    "airflow_provider_vtex.operators.feed",
                    "airflow_provider_vtex.operators.start_handling",
                    "airflow_provider_vtex.operators.payment",
                    "airflow_provider_vtex.operators.cancel",
                    "airflow_provider_vtex.operators.modification",
                    "airflow_provider_vtex.operators.order_log",
                    "airflow_provider_vtex.operators.order_hook",
                ],
            }
        ],
        "sensors": [
            {"integration-name": "VTEX", "python-modules": ["airflow_provider_vtex.sensors.order_status"]}
        ],
        "triggers": [
            {
                "integration-name": "VTEX",
                "python-modules": [
                    "airflow_provider_vtex.triggers.order_status",
                    "airflow_provider_vtex.triggers.change_request",
                    # Airflow 3 only (event-driven scheduling): importing it on Airflow 2 raises ImportError.
                    "airflow_provider_vtex.triggers.order_feed",
                    "airflow_provider_vtex.triggers.order_hook",
                ],
            }
        ],
        "connection-types": [connection_type],
        # Airflow 3's API server mounts the order hook's receiver and (3.1+) the VTEX page from this plugin (on
        # 2.11 it adds nothing).
        "plugins": [{"name": "vtex", "plugin-class": "airflow_provider_vtex.plugins.plugin.VtexPlugin"}],
        # common.messaging's MessageQueueTrigger(scheme="vtex"); skipped when that provider is not installed.
        "queues": ["airflow_provider_vtex.queues.vtex.VtexMessageQueueProvider"],
        "config": CONFIG,
        # Airflow 3 normalises every Asset("vtex://{account}/{kind}") with the handler (one asset, whatever
        # the case or trailing slash; a kind that does not exist fails the DAG file at parse time).
        "asset-uris": [
            {
                "schemes": ["vtex"],
                "handler": "airflow_provider_vtex.assets.sanitize_uri",
                "factory": "airflow_provider_vtex.assets.create_asset",
            }
        ],
    }

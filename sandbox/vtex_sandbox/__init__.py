"""vtex-sandbox: a local, stateful fake of VTEX's OMS (Orders API) over real HTTP.

Why it exists: VTEX has no public sandbox for invoice and tracking notifications, and a mocked HTTP
layer cannot show what matters -- retries after a 429, a write that succeeded while its response was
lost, eventual consistency of GET order, authentication and License Manager permissions. The sandbox
plays VTEX independently of the provider's own models, so it catches the client's mistakes.

Quick tour::

    from vtex_sandbox import Fault, VtexSandbox

    with VtexSandbox() as sb:                     # free port, seeded orders, background thread
        sb.add_fault("invoice", "rate_limit", count=1, retry_after=0)
        ...                                       # point a client at sb.url with sb.app_key/app_token
        assert sb.order("70caf3941s6df1")["status"] == "invoiced"
        print(sb.summary())

``VtexSandbox(data_architecture="pii")`` plays a store on VTEX's PII data architecture (its own routes,
contract and answers) instead of the standard OMS routes.

Both serve VTEX's order feed (Feed v3) too, per AppKey, fed by every change of every order; and a
store's day can be played -- orders placed, moved through their statuses, hundreds of them over a
minute in the background -- and measured (when each order was ready, when start-handling came)::

    with VtexSandbox() as sb:
        ...                                       # the client under test: POST /api/orders/feed/config
        day = sb.simulate(orders=300, over_seconds=60)
        day.wait(120)
        print(sb.stats()["workflow"]["readyToStartHandlingSeconds"])

Modules, one concern each: ``routes`` (the route tables of both architectures), ``handlers`` (VTEX's
checks and operations per request), ``validation`` (each route set's request contract), ``orders`` (the
state machine), ``workflow`` (which status moves are possible), ``feed`` (the order feed), ``views``
(VTEX's JSON shapes), ``seed``, ``clock``, ``errors``, ``request_log``, ``faults``, ``simulation`` (the
store's day), ``admin`` (``/_sandbox/``), ``server`` (HTTP only) and ``app`` (:class:`VtexSandbox`).

Standard library only, except JSONata for FromOrders feed filters: the optional ``jsonata-python``
(``pip install 'vtex-sandbox[jsonata]'``), imported when first needed. Importing this package is
cheap: the server module is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vtex_sandbox.app import VtexSandbox
    from vtex_sandbox.errors import SandboxError
    from vtex_sandbox.faults import Fault, FaultError

__all__ = ["Fault", "FaultError", "SandboxError", "VtexSandbox"]

_LAZY = {
    "Fault": "vtex_sandbox.faults",
    "FaultError": "vtex_sandbox.faults",
    "SandboxError": "vtex_sandbox.errors",
    "VtexSandbox": "vtex_sandbox.app",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

"""The ``vtex`` asset URI scheme: ``vtex://{account}/{kind}``, e.g. ``vtex://mystore/orders/invoiced``.

An asset stands for one kind of thing that happened to a VTEX account's orders, so a DAG can be scheduled
on it (Airflow 3): the invoice operator updates ``orders/invoiced``, the tracking operator
``orders/tracking``, the start-handling operator ``orders/handling``. The provider declares the scheme in
its provider info (``asset-uris``), and Airflow calls :func:`sanitize_uri` on every ``Asset("vtex://...")``
a DAG declares, so ``vtex://MyStore/orders/invoiced/`` and ``vtex://mystore/orders/invoiced`` are one
asset, and a typo in the kind fails the DAG file at parse time instead of scheduling on nothing.

No credential belongs in a URI (it is shown in the UI and stored in the metadata database): the account
name only, which is the host of the store's public address anyway.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from urllib.parse import SplitResult

SCHEME = "vtex"
#: What an asset can stand for, and which operator updates it.
KINDS: dict[str, str] = {
    "orders/invoiced": "InvoiceNotificationOperator: an order's invoice is held by VTEX",
    "orders/tracking": "TrackingNotificationOperator: tracking sent for an invoice",
    "orders/handling": "VtexStartHandlingOperator: orders moved to handling",
}
INVOICED, TRACKING, HANDLING = "orders/invoiced", "orders/tracking", "orders/handling"
#: VTEX account names are one DNS label (they become the host ``{account}.vtexcommercestable.com.br``).
_ACCOUNT = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _checked(account: str, kind: str) -> tuple[str, str]:
    account = account.strip().lower()
    kind = kind.strip().strip("/").lower()
    if not _ACCOUNT.fullmatch(account):
        raise ValueError(
            f"A vtex asset URI needs the VTEX account name as its host (letters, digits, '-'), as in "
            f"vtex://mystore/orders/invoiced; got {account!r}."
        )
    if kind not in KINDS:
        raise ValueError(
            f"A vtex asset URI's path says what the asset stands for: one of {', '.join(sorted(KINDS))} "
            f"(vtex://{account}/orders/invoiced); got {kind!r}."
        )
    return account, kind


def asset_uri(account: str, kind: str) -> str:
    """``vtex://{account}/{kind}``, normalised; ``ValueError`` naming the fix for a bad account or kind."""
    account, kind = _checked(account, kind)
    return f"{SCHEME}://{account}/{kind}"


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's normalisation hook for ``vtex://`` URIs (declared under ``asset-uris``): lower-case
    account and kind, no trailing slash; a URI with credentials, a port, a query or a fragment, or an
    unknown kind, is refused with a ``ValueError`` saying what a vtex asset URI looks like."""
    if uri.username or uri.password or uri.port:
        raise ValueError(
            "A vtex asset URI holds the account name only (vtex://mystore/orders/invoiced): no user, "
            "password or port (it is shown in the UI and stored in the metadata database)."
        )
    if uri.query or uri.fragment:
        raise ValueError(
            f"A vtex asset URI has no query or fragment: vtex://{uri.hostname or 'mystore'}/orders/invoiced."
        )
    account, kind = _checked(uri.hostname or "", uri.path)
    return uri._replace(netloc=account, path=f"/{kind}")


def create_asset(*, account: str, kind: str, extra: dict[str, Any] | None = None) -> Any:
    """The asset of ``kind`` for ``account`` (Airflow 3's ``Asset``), the factory declared with the scheme."""
    from airflow_provider_vtex.compat import Asset

    if Asset is None:
        raise RuntimeError(
            "VTEX asset events need Airflow 3 (airflow.sdk.Asset); this Airflow has none. Upgrade Airflow, or "
            "leave asset_account unset."
        )
    return Asset(uri=asset_uri(account, kind), extra=extra or {})


def is_vtex_asset(obj: Any, kind: str | None = None) -> bool:
    """Whether ``obj`` is an asset of the ``vtex`` scheme (of ``kind``, when given)."""
    uri = getattr(obj, "uri", None)
    if not isinstance(uri, str) or not uri.startswith(f"{SCHEME}://"):
        return False
    return kind is None or uri.rstrip("/").endswith("/" + kind)

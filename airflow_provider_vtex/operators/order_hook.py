"""Register VTEX's order hook from a DAG (``VtexRegisterOrderHookOperator``) or a shell
(``python -m airflow_provider_vtex.operators.order_hook``), with the connection's ``hook_secret`` as the
header VTEX sends on every call.

Both read VTEX's configuration first and register only when it is missing or different: VTEX deletes a
hook that had no notification for 3 days, so a daily run of the operator notices a deleted hook and
registers it again, and costs one GET on every other day. Registering makes VTEX ping the receiver, which
must be up (Airflow 3's API server with this provider installed) and reachable from the internet.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.get_provider_info import DEFAULT_CONN_ID
from airflow_provider_vtex.operators.base import VTEX_TEMPLATE_FIELDS, VtexBaseOperator, json_text_or_value

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_vtex.compat import Context


class VtexRegisterOrderHookOperator(VtexBaseOperator):
    """Make VTEX push this AppKey's order changes to the receiver at ``url`` (idempotent; run it daily).

    :param url: the receiver's public address, ``https://<airflow-api-server>/vtex/order-hook/<conn_id>``
        (templated). The ``<conn_id>`` must be this task's ``vtex_conn_id``: the receiver checks each call
        against that connection.
    :param feed_filter: which changes are pushed, as for the feed (templated; a dict or JSON text).
        Default: status changes into ``ready-for-handling``.
    :param vtex_conn_id: the ``vtex`` connection; its extra ``hook_secret`` becomes the header.
    :return: to XCom, whether the hook was (re)registered in this run.
    """

    template_fields: Sequence[str] = ("url", "feed_filter", *VTEX_TEMPLATE_FIELDS)

    def __init__(
        self, *, url: str, feed_filter: Mapping[str, Any] | str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.feed_filter = feed_filter

    def execute(self, context: Context) -> bool:
        feed_filter = json_text_or_value(self.feed_filter, "feed_filter", plain_text=False)
        with self.vtex_errors():
            return self.hook.ensure_hook_config(self.url, feed_filter)


def main(argv: list[str] | None = None) -> int:
    """``python -m airflow_provider_vtex.operators.order_hook register|show|delete --conn-id ... --url ...``"""
    from airflow_provider_vtex.exceptions import VtexError
    from airflow_provider_vtex.hooks.vtex import VtexHook

    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_vtex.operators.order_hook",
        description="Register, show or delete VTEX's order hook for a vtex connection's AppKey.",
    )
    parser.add_argument("action", choices=["register", "show", "delete"])
    parser.add_argument(
        "--conn-id", default=DEFAULT_CONN_ID, help="the vtex connection (default: %(default)s)"
    )
    parser.add_argument(
        "--url", help="register: the receiver's address, https://<api-server>/vtex/order-hook/<conn-id>"
    )
    parser.add_argument(
        "--status",
        action="append",
        help="register: a status to push (repeatable; default ready-for-handling)",
    )
    args = parser.parse_args(argv)
    hook = VtexHook(vtex_conn_id=args.conn_id)
    try:
        if args.action == "register":
            if not args.url:
                parser.error("register needs --url")
            feed_filter = {"type": "FromWorkflow", "status": args.status} if args.status else None
            changed = hook.ensure_hook_config(args.url, feed_filter)
            print("registered" if changed else "already registered as wanted")
        elif args.action == "show":
            held = hook.get_hook_config()
            print("no order hook" if held is None else f"url={held.url} filter={held.filter}")
        else:
            hook.delete_hook_config()
            print("deleted")
    except VtexError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The order hook's configuration calls, mixed into :class:`~airflow_provider_vtex.hooks.vtex.VtexHook`.

Kept apart from the feed's calls because the hook has one rule the feed does not: the configuration
carries the connection's ``hook_secret`` as a header, and VTEX echoes it back on GET, so nothing here may
log or return the configuration whole (:class:`~airflow_provider_vtex.models.order_hook.HookStatus` hides
the headers when printed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.client.scrub import REDACTED
from airflow_provider_vtex.exceptions import VtexConnectionConfigError, VtexNotFoundError
from airflow_provider_vtex.models.feed import FeedFilter
from airflow_provider_vtex.models.order_hook import SECRET_HEADER, HookConfig, HookStatus, HookTarget

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_vtex.hooks.face import HookFace as _Hook
else:
    _Hook = object


class OrderHookCalls(_Hook):
    """``get_hook_config``, ``set_hook_config``, ``delete_hook_config`` and ``ensure_hook_config``."""

    def get_hook_config(self) -> HookStatus | None:
        """The order hook VTEX holds for this AppKey, or ``None`` when there is none (never registered,
        or deleted by VTEX after 3 days without a notification)."""
        try:
            answer = self._call("hook_config_get")
        except VtexNotFoundError:
            return None
        if not isinstance(answer, dict) or not answer.get("hook"):
            return None
        return HookStatus.model_validate(answer)

    def set_hook_config(self, config: HookConfig | Mapping[str, Any] | str) -> None:
        """Create or replace this AppKey's order hook. VTEX pings the URL first and refuses the
        configuration unless the receiver answers 200 (so the receiver must be up, and hold the secret)."""
        self._call("hook_config_set", json_body=HookConfig.parse(config).to_wire())

    def delete_hook_config(self) -> None:
        """Remove this AppKey's order hook; a 404 (none, or a retry whose first answer was lost) is the
        outcome asked for."""
        try:
            self._call("hook_config_delete")
        except VtexNotFoundError:
            self.log.info("VTEX holds no order hook for this AppKey: nothing to delete.")

    def hook_config_for(
        self, url: str, feed_filter: FeedFilter | Mapping[str, Any] | str | None = None
    ) -> HookConfig:
        """The configuration that points VTEX at ``url`` with the connection's ``hook_secret`` as
        :data:`~airflow_provider_vtex.models.order_hook.SECRET_HEADER`; the filter defaults to
        ``ready-for-handling`` status changes."""
        secret = self.config.hook_secret
        if secret is None:
            raise VtexConnectionConfigError(
                f"Connection '{self.vtex_conn_id}' has no extra 'hook_secret': the receiver refuses every "
                "call without it. Add one (python -c 'import secrets; print(secrets.token_urlsafe(32))') "
                "in Admin > Connections, then register the hook again."
            )
        chosen = feed_filter or {"type": "FromWorkflow", "status": ["ready-for-handling"]}
        return HookConfig(
            filter=FeedFilter.parse(chosen),
            hook=HookTarget(url=url, headers={SECRET_HEADER: secret}),
        )

    def ensure_hook_config(
        self, url: str, feed_filter: FeedFilter | Mapping[str, Any] | str | None = None
    ) -> bool:
        """Register the order hook unless VTEX already holds it as wanted (same URL, same secret header,
        same filter); return whether it was (re)registered. Run it daily: VTEX deletes a hook that had no
        notification for 3 days, and this notices and registers it again."""
        wanted = self.hook_config_for(url, feed_filter)
        held = self.get_hook_config()
        if (
            held is not None
            and held.url == url
            and _sends_our_secret(held, wanted.hook.headers[SECRET_HEADER])
            and _same_filter(held.filter, wanted.filter)
        ):
            self.log.info("VTEX holds the order hook to %s as wanted: nothing to do.", url)
            return False
        self.log.info(
            "Registering the order hook to %s (%s).",
            url,
            "VTEX held none: never registered, or deleted after 3 idle days"
            if held is None
            else "it differed",
        )
        self.set_hook_config(wanted)
        return True


def _sends_our_secret(held: HookStatus, secret: str) -> bool:
    """Whether VTEX sends the connection's secret header. VTEX echoes the header on GET, and every answer
    is scrubbed before the hook reads it (:mod:`~airflow_provider_vtex.client.scrub`: the secret reaches
    no result, log or XCom), so the secret VTEX holds arrives as the scrubber's mask when it is ours; an
    old secret, not the connection's, arrives as itself and differs."""
    return held.sends_header(SECRET_HEADER, REDACTED) or held.sends_header(SECRET_HEADER, secret)


def _same_filter(held: Mapping[str, Any] | None, wanted: FeedFilter) -> bool:
    if held is None:
        return False
    try:
        return FeedFilter.model_validate(dict(held)) == wanted
    except ValueError:
        return False

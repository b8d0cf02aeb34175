"""VTEX's Orders API client, without Airflow: what the hook, the triggers and any script build on.

- :mod:`.config`: the connection's settings, read and checked (account, environment, base URL, TLS, proxies);
- :mod:`.routes`: both route sets (standard and PII), and the values allowed in their paths;
- :mod:`.rules`: what is retried, how long to wait, what VTEX's answers mean (no HTTP library);
- :mod:`.scrub`: the AppKey and AppToken redacted from every message, in every form a server may echo them;
- :mod:`.transport` and :mod:`.async_transport`: the sync (``requests``) and async (``httpx``) senders;
- :mod:`.rate_limit`: the requests-per-second cap shared by a hook's threads;
- :mod:`.invoice_once`: the rule that a write which may have been applied is never sent again blindly
  (read first, read back, absent versus unknown), whose VTEX calls the hook supplies.

Nothing here imports Airflow, nor any module of this provider outside ``client/``, ``models/`` and
``exceptions`` (``tests/unit/client/test_no_airflow.py`` checks it), so the rules can be read, and tested,
on their own.
"""

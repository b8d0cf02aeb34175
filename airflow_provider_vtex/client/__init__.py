"""VTEX's Orders API client, without Airflow: what the hook, the triggers and any script build on.

- :mod:`.config`: the connection's settings, read and checked (type, extras, account, environment, base
  URL, TLS, proxies);
- :mod:`.routes`: both route sets (standard and PII), and the values allowed in their paths;
- :mod:`.rules`: what is retried, how long to wait, what VTEX's answers mean (no HTTP library sends from
  there; it borrows urllib3's ``Retry-After`` parser);
- :mod:`.scrub`: the AppKey and AppToken redacted from every answer, message and result, in every form a
  server may echo them;
- :mod:`.sending`: what every attempt goes through, whichever face sends it (cap, 429 pauses, rules,
  scrubbing, the reports of each attempt);
- :mod:`.transport` and :mod:`.async_transport`: the sync (``requests``) and async (``httpx``) faces;
- :mod:`.rate_limit`: the requests-per-second cap shared by a hook's threads and coroutines;
- :mod:`.invoice_once`: the rule that a write which may have been applied is never sent again blindly
  (read first, read back, absent versus unknown), whose VTEX calls the hook supplies.

Nothing here imports Airflow (nor WTForms or Flask), nor any module of this provider outside
``client/``, ``models/`` and ``exceptions``, but for the provider's own constants
(:mod:`airflow_provider_vtex.get_provider_info`: the version, the connection's fields and defaults, which
import nothing). ``tests/unit/client/test_no_airflow.py`` checks it, so the rules can be read, and tested,
on their own.
"""

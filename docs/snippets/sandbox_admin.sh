#!/usr/bin/env bash
# Every admin route of the local VTEX sandbox, one curl each, in the order a first session uses them.
# The documentation includes the sections between the "--8<--" markers; tests/integration/test_docs.py runs this
# whole file against a sandbox, so every command shown in the docs works as shown.
# --fail-with-body (curl 7.76+): a refused request prints the sandbox's error and stops the script.
set -euo pipefail
SANDBOX=${SANDBOX:-http://127.0.0.1:8089}

# --8<-- [start:health]
curl -sS --fail-with-body "$SANDBOX/_sandbox/health"
# {"status": "ok", "orders": 7}
# --8<-- [end:health]

# --8<-- [start:feed-config]
# The feed records changes only from the moment it is configured: configure it before moving orders.
# (This is VTEX's own route, so it needs the AppKey and AppToken the sandbox printed.)
curl -sS --fail-with-body -X POST "$SANDBOX/api/orders/feed/config" \
  -H "X-VTEX-API-AppKey: sandbox-key" -H "X-VTEX-API-AppToken: sandbox-token" \
  -H "Content-Type: application/json" \
  -d '{"filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
       "queue": {"visibilityTimeoutInSeconds": 300, "MessageRetentionPeriodInSeconds": 345600}}'
# --8<-- [end:feed-config]

# --8<-- [start:place]
# Place an order: it starts in payment-pending unless "status" says otherwise ("value" defaults to the
# items' total). The answer is the whole order, as VTEX's GET order shows it.
curl -sS --fail-with-body "$SANDBOX/_sandbox/orders" \
  -d '{"orderId": "DOC-1001-01", "items": [{"id": "18", "name": "Mug", "quantity": 2, "price": 1990}]}'
# --8<-- [end:place]

# --8<-- [start:move]
# Move it as VTEX's workflow does, one step at a time (forward only; 409 otherwise).
curl -sS --fail-with-body "$SANDBOX/_sandbox/orders/DOC-1001-01/status" -d '{"status": "payment-approved"}'
# {"orderId": "DOC-1001-01", "status": "payment-approved", "previousStatus": "payment-pending"}
curl -sS --fail-with-body "$SANDBOX/_sandbox/orders/DOC-1001-01/status" -d '{"status": "ready-for-handling"}'
# {"orderId": "DOC-1001-01", "status": "ready-for-handling", "previousStatus": "payment-approved"}
# --8<-- [end:move]

# --8<-- [start:cancel]
# A cancel (allowed until the order is invoiced) takes an optional reason.
curl -sS --fail-with-body "$SANDBOX/_sandbox/orders" \
  -d '{"orderId": "DOC-1002-01", "items": [{"id": "27", "name": "Plate", "quantity": 1, "price": 4590}]}'
curl -sS --fail-with-body "$SANDBOX/_sandbox/orders/DOC-1002-01/status" \
  -d '{"status": "canceled", "reason": "customer asked"}'
# --8<-- [end:cancel]

# --8<-- [start:inspect]
curl -sS --fail-with-body "$SANDBOX/_sandbox/orders"              # every order: status, value, invoices
curl -sS --fail-with-body "$SANDBOX/_sandbox/orders/DOC-1001-01"  # one order, its invoices and timeline
curl -sS --fail-with-body "$SANDBOX/_sandbox/timeline"            # when each order reached each status
curl -sS --fail-with-body "$SANDBOX/_sandbox/requests"            # what was received (AppToken redacted)
curl -sS --fail-with-body "$SANDBOX/_sandbox/stats"               # load and start-handling statistics
curl -sS --fail-with-body "$SANDBOX/_sandbox/feeds"               # per AppKey: queue, hand-outs, commits
# --8<-- [end:inspect]

# --8<-- [start:clock]
# Let the feed's timers (visibility timeout, retention) pass without waiting.
curl -sS --fail-with-body "$SANDBOX/_sandbox/clock" -d '{"advance": 300}'
# {"advanced": 300}
# --8<-- [end:clock]

# --8<-- [start:faults]
# Inject a fault on one route: here the next 3 invoice requests answer 429 with Retry-After: 1.
curl -sS --fail-with-body "$SANDBOX/_sandbox/faults" \
  -d '{"route": "invoice", "kind": "rate_limit", "count": 3, "retry_after": 1}'
curl -sS --fail-with-body "$SANDBOX/_sandbox/faults"              # the rules and what each has left
curl -sS --fail-with-body -X DELETE "$SANDBOX/_sandbox/faults"    # remove them all
# --8<-- [end:faults]

# --8<-- [start:simulate]
# A store's day: 20 orders placed and moved payment-pending -> payment-approved -> ready-for-handling,
# spread over 10 seconds, in the background.
curl -sS --fail-with-body "$SANDBOX/_sandbox/simulate" -d '{"orders": 20, "over_seconds": 10}'
curl -sS --fail-with-body "$SANDBOX/_sandbox/simulate?wait=30"    # wait (at most 30 s) for it to end
curl -sS --fail-with-body -X DELETE "$SANDBOX/_sandbox/simulate"  # or stop it early
# --8<-- [end:simulate]

# --8<-- [start:reset]
curl -sS --fail-with-body -X DELETE "$SANDBOX/_sandbox/requests"  # forget the received requests
curl -sS --fail-with-body -X POST "$SANDBOX/_sandbox/reset"       # the seeded orders; no feed config, no faults
# --8<-- [end:reset]

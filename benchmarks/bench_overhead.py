"""Per-call overhead of ``VtexHook.send_invoice`` against a hand-written ``requests.Session`` loop, a bare
``http.client`` loop and ``HttpHook.run``.

The same invoice POST (same URL, headers and JSON body) is sent to the sandbox, running in its own
process, by these clients:

* **floor**: a bare ``http.client`` keep-alive connection: ``request()``, ``getresponse().read()``,
  ``json.loads`` -- no client library at all, the floor of any Python client;
* **raw**: a keep-alive ``requests.Session`` loop as one writes it by hand: ``post(json=body)``,
  ``raise_for_status()``, ``.json()`` -- with requests' defaults, so it re-reads the environment (proxies,
  CA bundle) on every request;
* **ours**: ``VtexHook.send_invoice(order_id, invoice_dict)`` -- payload validation (pydantic), the retry
  policy (tenacity), path checks, typed errors, over the hook's one pooled session whose environment
  settings were resolved once;
* **HttpHook**: ``HttpHook(method="POST").run(endpoint, json=body)`` from apache-airflow-providers-http,
  with the VTEX headers and (over HTTPS) ``verify`` in its ``http`` connection's extra, as one would set
  it up. Each ``run`` reads the connection and builds a new ``requests.Session``; since providers-http
  mounts one keep-alive adapter per hook *instance* into those sessions, calls on one hook still reuse
  their TCP/TLS connection;
* **HttpHook new**: a new ``HttpHook`` per call, as each task (or mapped task instance) of an
  ``HttpOperator`` makes: a new TCP connection, and over HTTPS a full TLS handshake, per call. Shown for
  reference; the targets compare one reused ``HttpHook``.

Rounds interleave the clients (order rotated each round) over plain HTTP and over HTTPS (the sandbox's
self-signed certificate), so that machine noise hits all of them alike; medians over rounds, and ratios
taken per round (paired) then medianed. Logging is silenced for every client. Run::

    .venv/bin/python benchmarks/bench_overhead.py [--rounds 10] [--calls 200]
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import ssl
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from _common import (  # benchmarks/ is on sys.path when a script of it runs
    INVOICE,
    ORDER_ID,
    Report,
    median,
    prepare_environment,
    print_header,
    sandbox_process,
    silence_logging,
    spread,
    verdict,
)

TARGET_OURS_VS_RAW = 0.95
TARGET_HTTPHOOK_VS_OURS = {"http": 1.2, "https": 2.0}
METHODS = ("floor", "raw", "ours", "HttpHook", "HttpHook new")


def sandbox_capacity(sandbox: Any, seconds: float = 2.0) -> tuple[float, float]:
    """Requests/s the sandbox answers to one keep-alive client: a bare ``http.client`` connection (the
    sandbox's own ceiling) and a ``requests.Session`` (what the clients below can reach at best)."""
    import requests

    parts = urlsplit(sandbox.url)
    path = f"/api/oms/pvt/orders/{ORDER_ID}/invoice"
    body = json.dumps(INVOICE).encode()
    headers = {**sandbox.auth_headers, "Content-Type": "application/json", "Accept": "application/json"}
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=sandbox.ca_file)
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, context=context
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
    conn.connect()
    conn.sock.setsockopt(6, 1, 1)  # TCP_NODELAY, as requests/urllib3 set it
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        done += 1
    raw_rps = done / (time.perf_counter() - started)
    conn.close()
    session = requests.Session()
    session.verify = sandbox.ca_file or True
    session.headers.update(headers)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        session.post(sandbox.url + path, data=body).raise_for_status()
        done += 1
    session_rps = done / (time.perf_counter() - started)
    session.close()
    return raw_rps, session_rps


def make_clients(sandbox: Any, scheme: str) -> dict[str, Callable[[], Any]]:
    """The three clients, each ready to send one invoice POST per call."""
    import requests
    from airflow.providers.http.hooks.http import HttpHook

    from airflow_provider_vtex.client.routes import route_for
    from airflow_provider_vtex.hooks.vtex import VtexHook
    from airflow_provider_vtex.models import Invoice

    vtex_conn_id = f"vtex_bench_{scheme}"
    http_conn_id = f"http_bench_{scheme}"
    os.environ[f"AIRFLOW_CONN_{vtex_conn_id.upper()}"] = json.dumps(sandbox.connection)

    hook = VtexHook(vtex_conn_id)
    url = hook.config.base_url + route_for("standard", "invoice").path(order_id=ORDER_ID)
    body = Invoice.parse(INVOICE).to_wire()  # exactly what the hook sends
    headers = dict(hook.get_conn().headers)  # requests' defaults + the hook's: identical on the wire

    parts = urlsplit(sandbox.url)
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=sandbox.ca_file)
        bare: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, context=context
        )
    else:
        bare = http.client.HTTPConnection(parts.hostname, parts.port)
    bare.connect()
    bare.sock.setsockopt(6, 1, 1)  # TCP_NODELAY, as requests/urllib3 set it
    encoded = json.dumps(body).encode()
    path = urlsplit(url).path

    raw = requests.Session()
    raw.headers.clear()
    raw.headers.update(headers)
    raw.verify = sandbox.ca_file or True

    http_extra: dict[str, Any] = {
        name: value for name, value in headers.items() if name not in ("Accept-Encoding", "Connection")
    }
    if sandbox.ca_file:
        http_extra["verify"] = sandbox.ca_file
    os.environ[f"AIRFLOW_CONN_{http_conn_id.upper()}"] = json.dumps(
        {
            "conn_type": "http",
            "host": parts.hostname,
            "port": parts.port,
            "schema": parts.scheme,
            "extra": http_extra,
        }
    )
    http_hook = HttpHook(method="POST", http_conn_id=http_conn_id)
    endpoint = url[len(sandbox.url) :]
    timeout = hook.client.timeout

    def call_floor() -> Any:
        bare.request("POST", path, body=encoded, headers=headers)
        response = bare.getresponse()
        payload = response.read()
        assert response.status == 200, response.status
        return json.loads(payload)

    def call_raw() -> Any:
        response = raw.post(url, json=body, timeout=timeout)
        response.raise_for_status()
        return response.json()

    def call_ours() -> Any:
        result = hook.send_invoice(ORDER_ID, INVOICE)
        return {"orderId": result.order_id, "receipt": result.receipt}

    def call_http_hook() -> Any:
        return http_hook.run(endpoint, json=body, extra_options={"timeout": timeout}).json()

    def call_new_http_hook() -> Any:
        fresh = HttpHook(method="POST", http_conn_id=http_conn_id)
        return fresh.run(endpoint, json=body, extra_options={"timeout": timeout}).json()

    # The same request on the wire: check once.
    answers = [call_floor(), call_raw(), call_ours(), call_http_hook(), call_new_http_hook()]
    assert all(answer["orderId"] == ORDER_ID and answer["receipt"] for answer in answers), answers
    return {
        "floor": call_floor,
        "raw": call_raw,
        "ours": call_ours,
        "HttpHook": call_http_hook,
        "HttpHook new": call_new_http_hook,
    }


def timed_batch(call: Callable[[], Any], calls: int) -> float:
    """Milliseconds per call over one batch."""
    gc.collect()
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) * 1000 / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200, help="calls per client per round")
    args = parser.parse_args(argv)

    prepare_environment()
    print_header(
        "bench_overhead: per-call overhead of VtexHook.send_invoice vs raw requests, http.client, HttpHook"
    )
    from importlib.metadata import version

    report = Report(
        "bench_overhead",
        "Per-call overhead (one invoice POST; ms a call are medians over rounds)",
        columns=("What", "HTTP", "HTTPS", "Target"),
        versions=("requests", "apache-airflow-providers-http"),
    )

    print(
        f"   {args.rounds} rounds x {args.calls} calls per client and protocol, clients interleaved, order "
        "rotated; sandbox in its own process; same invoice POST (URL, headers, body) for every client; "
        f"requests {version('requests')}, apache-airflow-providers-http {version('apache-airflow-providers-http')}"
    )
    with sandbox_process() as plain, sandbox_process("--tls") as tls:
        sandboxes = {"http": plain, "https": tls}
        print(
            "-- sandbox capacity (check the sandbox is not the bottleneck): one keep-alive client, POST invoice"
        )
        for scheme, sandbox in sandboxes.items():
            bare, session = sandbox_capacity(sandbox)
            print(
                f"   {scheme:5}: {bare:6.0f} req/s from bare http.client ({1000 / bare:.2f} ms/round trip), "
                f"{session:6.0f} req/s from a requests.Session ({1000 / session:.2f} ms)"
            )
        silence_logging()
        clients = {scheme: make_clients(sandbox, scheme) for scheme, sandbox in sandboxes.items()}
        for scheme_clients in clients.values():  # warm-up: pools, TLS sessions, caches
            for call in scheme_clients.values():
                timed_batch(call, 20)

        results: dict[str, dict[str, list[float]]] = {s: {m: [] for m in METHODS} for s in sandboxes}
        started = time.perf_counter()
        for round_number in range(args.rounds):
            shift = round_number % len(METHODS)
            order = METHODS[shift:] + METHODS[:shift]
            for scheme in ("http", "https") if round_number % 2 == 0 else ("https", "http"):
                for method in order:
                    results[scheme][method].append(timed_batch(clients[scheme][method], args.calls))
        elapsed = time.perf_counter() - started

    print(
        f"-- results (ms per call: median over rounds, and the rounds' min..max); {elapsed:.0f} s of timing"
    )
    print(
        f"   {'':6} {'floor':>20} {'raw':>20} {'ours':>20} {'HttpHook':>20} {'HttpHook new':>20}   "
        f"{'ours/raw':>8} {'ours/floor':>10} {'HttpHook/ours':>13} {'new/ours':>8}"
    )
    summary: list[str] = []
    cols: dict[str, dict[str, str]] = {"ours_raw": {}, "ours_floor": {}, "hh_ours": {}, "new_ours": {}}
    for scheme, per_method in results.items():
        cells = [f"{median(per_method[m]):6.3f} ({spread(per_method[m])})" for m in METHODS]

        def paired(a: str, b: str, per_method: dict[str, list[float]] = per_method) -> float:
            return median([x / y for x, y in zip(per_method[a], per_method[b], strict=True)])

        ours_raw = paired("ours", "raw")
        ours_floor = paired("ours", "floor")
        hh_ours = paired("HttpHook", "ours")
        new_ours = paired("HttpHook new", "ours")
        print(
            f"   {scheme:6} {cells[0]:>20} {cells[1]:>20} {cells[2]:>20} {cells[3]:>20} {cells[4]:>20}   "
            f"{ours_raw:8.3f} {ours_floor:10.2f} {hh_ours:13.2f} {new_ours:8.2f}"
        )
        target_hh = TARGET_HTTPHOOK_VS_OURS[scheme]
        ms = {m: median(per_method[m]) for m in METHODS}
        cols["ours_raw"][scheme] = (
            f"**{ours_raw:.2f} x** ({ms['ours']:.2f} vs {ms['raw']:.2f} ms) "
            f"({verdict(ours_raw <= TARGET_OURS_VS_RAW)})"
        )
        cols["ours_floor"][scheme] = f"{ours_floor:.2f} x"
        cols["hh_ours"][scheme] = f"**{hh_ours:.2f} x** ({verdict(hh_ours >= target_hh)})"
        cols["new_ours"][scheme] = f"{new_ours:.1f} x"
        overhead_us = (median(per_method["ours"]) - median(per_method["raw"])) * 1000
        summary.append(
            f"   {scheme:5}: ours/raw {ours_raw:.3f} (target <= {TARGET_OURS_VS_RAW:.2f}: "
            f"{verdict(ours_raw <= TARGET_OURS_VS_RAW)}; ours {overhead_us:+.0f} us/call against raw); "
            f"ours/floor {ours_floor:.2f} (for reference: the cost of any requests-based client); "
            f"HttpHook/ours {hh_ours:.2f} (target >= {target_hh:g}: {verdict(hh_ours >= target_hh)}); "
            f"new HttpHook per call/ours {new_ours:.2f}"
        )
    report.row(
        "`VtexHook.send_invoice` vs a raw keep-alive `requests.Session` sending the same POST",
        cols["ours_raw"]["http"],
        cols["ours_raw"]["https"],
        f"<= {TARGET_OURS_VS_RAW:.2f} x",
    )
    report.row(
        "ours vs the floor, bare `http.client` on one keep-alive connection",
        cols["ours_floor"]["http"],
        cols["ours_floor"]["https"],
        "for reference: the cost of any `requests` client",
    )
    report.row(
        "`HttpHook.run`, one hook reused, vs ours",
        cols["hh_ours"]["http"],
        cols["hh_ours"]["https"],
        " / ".join(f">= {TARGET_HTTPHOOK_VS_OURS[s]:g} x" for s in ("http", "https")),
    )
    report.row(
        "a new `HttpHook` per call, as each task makes one, vs ours",
        cols["new_ours"]["http"],
        cols["new_ours"]["https"],
        "for reference",
    )
    report.note(
        f"{args.rounds} rounds x {args.calls} calls per client and protocol; ratios paired per round."
    )
    report.write()
    print("-- against the targets (ratios: per-round paired, then median)")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

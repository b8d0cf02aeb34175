"""The ``vtex-sandbox`` command line, the pytest fixtures, seed files and TLS."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.cli import running_cli
from vtex_sandbox import VtexSandbox
from vtex_sandbox.__main__ import main

ORDER = "70caf3941s6df1"
AUTH = {"X-VTEX-API-AppKey": "sandbox-key", "X-VTEX-API-AppToken": "sandbox-token"}


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    seed = tmp_path / "orders.json"
    seed.write_text(json.dumps([{"orderId": "CLI-01", "items": [{"id": "1", "quantity": 1, "price": 990}]}]))
    fault = "get_order:status:count=1,status=503"
    with running_cli("--port", "0", "--seed", str(seed), "--app-token", "cli-token", "--fault", fault) as cli:
        assert cli.url.startswith("http://127.0.0.1:")
        # The banner's line works when pasted into a shell (cli.connection is what bash exported).
        assert cli.export_line.startswith("export AIRFLOW_CONN_VTEX_DEFAULT='")
        assert cli.connection["extra"]["base_url"] == cli.url
        assert cli.connection["password"] == "cli-token"
        headers = {"X-VTEX-API-AppKey": "sandbox-key", "X-VTEX-API-AppToken": "cli-token"}
        assert (
            requests.get(f"{cli.url}/api/oms/pvt/orders/CLI-01", headers=headers, timeout=5).status_code
            == 503
        )
        assert (
            requests.get(f"{cli.url}/api/oms/pvt/orders/CLI-01", headers=headers, timeout=5).status_code
            == 200
        )
        assert (
            requests.get(f"{cli.url}/api/oms/pvt/orders/{ORDER}", headers=headers, timeout=5).status_code
            == 404
        )


def test_cli_rejects_a_bad_fault(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--fault", "invoice:explode"])
    assert exc.value.code == 2
    assert "unknown fault kind" in capsys.readouterr().err


def test_cli_reports_a_busy_port(vtex_sandbox: VtexSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", str(vtex_sandbox.port), "--no-seed"]) == 1
    assert "cannot start" in capsys.readouterr().err


@pytest.mark.skipif(
    shutil.which("vtex-sandbox") is None and not Path(sys.executable).with_name("vtex-sandbox").exists(),
    reason="console script not installed",
)
def test_console_script_help() -> None:
    script = shutil.which("vtex-sandbox") or str(Path(sys.executable).with_name("vtex-sandbox"))
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30, check=True)
    assert "--invoice-visibility-delay" in result.stdout


# -- pytest fixtures ------------------------------------------------------------------------------------


def test_vtex_sandbox_connection_fixture(vtex_sandbox_connection: VtexSandbox) -> None:
    conn = json.loads(os.environ["AIRFLOW_CONN_VTEX_DEFAULT"])
    assert conn == {
        "conn_type": "vtex",
        "login": vtex_sandbox_connection.app_key,
        "password": vtex_sandbox_connection.app_token,
        "host": "sandbox",
        "extra": {"base_url": vtex_sandbox_connection.url},
    }
    response = requests.get(
        f"{conn['extra']['base_url']}/api/oms/pvt/orders/{ORDER}", headers=AUTH, timeout=5
    )
    assert response.status_code == 200


def test_fixture_is_function_scoped_and_fresh(vtex_sandbox: VtexSandbox) -> None:
    assert vtex_sandbox.running
    assert vtex_sandbox.requests == []
    assert vtex_sandbox.invoices(ORDER) == []


@pytest.mark.vtex_sandbox(app_token="marked-token", seed_default=False)
def test_marker_configures_the_fixture(vtex_sandbox: VtexSandbox) -> None:
    assert vtex_sandbox.app_token == "marked-token"
    assert vtex_sandbox.summary() == {}


def test_plugin_module_imports_only_stdlib_and_the_sandbox() -> None:
    code = (
        "import sys, vtex_sandbox.pytest_plugin, vtex_sandbox.app;"
        "bad = [m for m in sys.modules if m.split('.')[0] in"
        " ('airflow', 'airflow_provider_vtex', 'requests', 'pydantic', 'urllib3')];"
        "print(bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


# -- seed files and TLS ---------------------------------------------------------------------------------


def test_seed_file_in_the_orders_envelope(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"orders": [{"orderId": "S-01", "items": [{"id": "1", "price": 5}]}]}))
    with VtexSandbox(seed_file=seed) as sb:
        assert list(sb.summary()) == ["S-01"]
        assert sb.order("S-01")["value"] == 5


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not available to make a certificate")
def test_tls(tmp_path: Path) -> None:
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with VtexSandbox(ssl_context=context) as sb:
        assert sb.url.startswith("https://")
        response = requests.get(
            f"{sb.url}/api/oms/pvt/orders/{ORDER}", headers=AUTH, verify=str(cert), timeout=5
        )
        assert response.status_code == 200

"""The sandbox over HTTPS: ``VtexSandbox(tls=True)`` / ``vtex-sandbox --tls`` with a self-signed certificate."""

from __future__ import annotations

import json
import logging
import ssl
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest
import requests

from tests.cli import running_cli
from vtex_sandbox import VtexSandbox

ORDER = "70caf3941s6df1"
AUTH = {"X-VTEX-API-AppKey": "sandbox-key", "X-VTEX-API-AppToken": "sandbox-token"}


def test_tls_sandbox_serves_https_with_a_certificate_to_trust() -> None:
    with VtexSandbox(tls=True) as sb:
        assert sb.url.startswith("https://127.0.0.1:")
        ca_file = sb.ca_file
        assert ca_file is not None
        assert Path(ca_file).read_text().startswith("-----BEGIN CERTIFICATE-----")
        response = requests.get(
            f"{sb.url}/api/oms/pvt/orders/{ORDER}", headers=AUTH, verify=ca_file, timeout=5
        )
        assert response.status_code == 200
        assert response.json()["orderId"] == ORDER
        # localhost is a name of the certificate too.
        local = sb.url.replace("127.0.0.1", "localhost")
        assert requests.get(f"{local}/_sandbox/health", verify=ca_file, timeout=5).status_code == 200
        conn = json.loads(sb.airflow_connection())
        assert conn["extra"] == {"base_url": sb.url, "verify": ca_file}
    assert not Path(ca_file).exists()
    assert not Path(ca_file).parent.exists(), "the temporary certificate directory is removed on stop"


def test_certificate_passes_strict_x509_verification() -> None:
    """Python 3.13 turns on VERIFY_X509_STRICT by default; the certificate must satisfy it already."""
    with VtexSandbox(tls=True) as sb:
        assert sb.ca_file is not None
        context = ssl.create_default_context(cafile=sb.ca_file)
        context.verify_flags |= getattr(ssl, "VERIFY_X509_STRICT", 0)
        with urllib.request.urlopen(f"{sb.url}/_sandbox/health", context=context, timeout=5) as response:
            assert json.load(response)["status"] == "ok"


def test_untrusted_clients_fail_the_handshake_quietly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="vtex_sandbox"), VtexSandbox(tls=True) as sb:
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{sb.url}/_sandbox/health", timeout=5)
        # The server is still fine afterwards.
        assert requests.get(f"{sb.url}/_sandbox/health", verify=sb.ca_file, timeout=5).status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_plain_sandbox_has_no_ca_file_and_no_verify_extra() -> None:
    with VtexSandbox() as sb:
        assert sb.url.startswith("http://")
        assert sb.ca_file is None
        assert "verify" not in json.loads(sb.airflow_connection())["extra"]


def test_ca_file_before_start_and_conflicting_options() -> None:
    sb = VtexSandbox(tls=True)
    with pytest.raises(RuntimeError, match="not started"):
        _ = sb.ca_file
    with pytest.raises(ValueError, match="either tls=True"):
        VtexSandbox(tls=True, ssl_context=ssl.create_default_context(ssl.Purpose.CLIENT_AUTH))


def test_a_failed_start_leaves_no_certificate_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    with VtexSandbox() as busy, pytest.raises(OSError, match="in use"):
        VtexSandbox(port=busy.port, tls=True).start()
    assert list(tmp_path.iterdir()) == []


def test_sandbox_imports_and_serves_plain_http_without_cryptography() -> None:
    """``cryptography`` is imported only for tls=True: the sandbox stays standard-library only."""
    code = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "cryptography" or name.startswith("cryptography."):
                    raise ImportError("cryptography blocked by the test")
                return None

        sys.meta_path.insert(0, Block())
        import urllib.request
        from vtex_sandbox import VtexSandbox

        with VtexSandbox() as sb:
            with urllib.request.urlopen(sb.url + "/_sandbox/health", timeout=5) as response:
                assert response.status == 200
        try:
            VtexSandbox(tls=True).start()
        except RuntimeError as exc:
            print("tls:", exc)
        print("cryptography loaded:", any(m.startswith("cryptography") for m in sys.modules))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "cryptography loaded: False" in result.stdout
    assert "needs the 'cryptography' package" in result.stdout


# -- the command line -------------------------------------------------------------------------------


def test_cli_tls_prints_a_connection_that_trusts_its_certificate() -> None:
    with running_cli("--port", "0", "--tls", "--max-log", "2") as cli:
        assert cli.url.startswith("https://127.0.0.1:")
        ca_line = next(line for line in cli.banner if line.startswith("certificate to trust"))
        ca_file = ca_line.rsplit(" ", 1)[1].strip()
        assert cli.connection["extra"] == {"base_url": cli.url, "verify": ca_file}
        for _ in range(3):
            response = requests.get(
                f"{cli.url}/api/oms/pvt/orders/{ORDER}", headers=AUTH, verify=ca_file, timeout=5
            )
            assert response.status_code == 200
        logged = requests.get(f"{cli.url}/_sandbox/requests", verify=ca_file, timeout=5).json()["requests"]
        assert [entry["id"] for entry in logged] == [2, 3], "--max-log keeps the last N requests"
    assert not Path(ca_file).exists(), "the certificate is deleted when the sandbox stops"

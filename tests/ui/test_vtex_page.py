"""The VTEX page (Airflow 3.1+) in a real headless browser, against a real Airflow with real sign-in and the
local VTEX sandbox.

One deployment (API server, scheduler, DAG processor; SQLite, LocalExecutor) with Airflow's simple auth
manager and one user (not the all-admins mode of ``test_airflow_ui.py``: here an unauthenticated request
must be refused). The sandbox holds a store's morning: five orders ready for handling that the scenario
DAG (``tests/ui/dags/vtex_page_scenario.py``) drains while VTEX throttles it (429s), one order placed two
hours ago that nobody handles (stuck), and a canceled order whose invoice VTEX refuses.

Opt-in (a deployment costs about a minute): ``VTEX_PAGE_TESTS=1``, as ``make test-vtex-page`` sets it.
Screenshots go to a temporary folder, or to ``$VTEX_UI_SCREENSHOT_DIR`` (``VTEX_UI_SCREENSHOT_DIR=docs
make test-vtex-page`` refreshes the docs' images). Without Chromium or Playwright the module is skipped,
unless ``VTEX_UI_TEST_REQUIRED=1`` (set by ``.ci/run``).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.deployment.airflow import AirflowDeployment
from tests.deployment.processes import wait_for
from tests.ui import browser

if os.environ.get("VTEX_PAGE_TESTS") != "1":
    pytest.skip(
        "the VTEX page's browser test runs with VTEX_PAGE_TESTS=1 (make test-vtex-page)",
        allow_module_level=True,
    )
if importlib.util.find_spec("airflow.api_fastapi") is None:
    pytest.skip("the VTEX page needs Airflow 3.1+'s UI plugins", allow_module_level=True)
_MISSING = browser.missing()
if _MISSING is not None:
    if os.environ.get("VTEX_UI_TEST_REQUIRED") == "1":
        raise RuntimeError(f"VTEX_UI_TEST_REQUIRED=1 but the UI test cannot run: {_MISSING}")
    pytest.skip(f"no headless browser: {_MISSING}", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "vtex_page_scenario"
DAG_FILE = Path(__file__).resolve().parent / "dags" / f"{DAG_ID}.py"
APP_KEY = "vtexappkey-pagetest-KEY"
#: Distinctive, so finding it anywhere in the page means it leaked.
APP_TOKEN = "PAGETEST-apptoken-3b9d0e55a1c2"
USER, PASSWORD = "operator", "page-test-password"
STUCK_ORDER = "STUCK-1-01"
DRAINED = [f"PAGE-{n}-01" for n in range(1, 6)]
CANCELED_ORDER = "1172452900790-01"
UI_TIMEOUT_MS = 20_000


@dataclass
class Deployment:
    stack: AirflowDeployment
    sandbox: Any
    shots: Path
    token: str

    def api(self, method: str, path: str, body: Any = None, *, token: str | None = "") -> tuple[int, Any]:
        """A request to the API server as the signed-in user (``token=None``: no credentials at all)."""
        headers = {"Content-Type": "application/json"}
        bearer = self.token if token == "" else token
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.stack.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(f"terminated by signal {signum}")


def _token(url: str) -> str:
    request = urllib.request.Request(
        f"{url}/auth/token",
        data=json.dumps({"username": USER, "password": PASSWORD}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return str(json.loads(response.read())["access_token"])


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from vtex_sandbox import VtexSandbox

    shots = Path(os.environ.get("VTEX_UI_SCREENSHOT_DIR") or tmp_path_factory.mktemp("page-screenshots"))
    shots = shots if shots.is_absolute() else REPO_ROOT / shots
    shots.mkdir(parents=True, exist_ok=True)
    home = tmp_path_factory.mktemp("airflow-home")
    dags = home / "dags"
    dags.mkdir()
    (dags / DAG_FILE.name).symlink_to(DAG_FILE)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    sandbox = VtexSandbox(app_key=APP_KEY, app_token=APP_TOKEN).start()
    connection = json.loads(sandbox.airflow_connection())
    stack = AirflowDeployment(
        home / "airflow",
        dags,
        env={
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        },
    )
    previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    stray: list[Any] = []
    try:
        stack.start()
        deployed = Deployment(stack, sandbox, shots, _token(stack.url))
        # The connection in Airflow's database, where the page lists the vtex connections from.
        status, answer = deployed.api(
            "POST",
            "/api/v2/connections",
            {
                "connection_id": "vtex_default",
                **{
                    "conn_type": "vtex",
                    "login": connection["login"],
                    "password": connection["password"],
                    "host": connection["host"],
                    "extra": json.dumps(connection["extra"]),
                },
            },
        )
        assert status == 201, answer
        wait_for(
            f"the DAG {DAG_ID} to be parsed",
            lambda: deployed.api("GET", f"/api/v2/dags/{DAG_ID}")[0] == 200,
            timeout=120,
            interval=1,
        )
        yield deployed
    except BaseException:
        print(stack.component_output(), file=sys.stderr)
        raise
    finally:
        stray = stack.stop()
        sandbox.stop()
        signal.signal(signal.SIGTERM, previous_sigterm)
        print(f"VTEX page screenshots: {shots}", file=sys.stderr)
    assert not stray, f"processes left behind by the Airflow deployment: {stray}"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(browser.CHROMIUM), args=browser.CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            instance.close()


def _signed_in_page(chromium: Browser, deployment: Deployment) -> Page:
    """A tab signed in as the test's user (Airflow's UI keeps the JWT in its ``_token`` cookie)."""
    context = chromium.new_context(viewport=browser.VIEWPORT, base_url=deployment.stack.url)
    context.add_cookies([{"name": "_token", "value": deployment.token, "url": deployment.stack.url}])
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    return context.new_page()


def test_the_page_refuses_a_request_without_sign_in(deployment: Deployment, chromium: Browser) -> None:
    status, answer = deployment.api("GET", "/vtex/page/", token=None)
    assert status == 401, answer
    status, answer = deployment.api("GET", "/vtex/page/", token="not-a-token")
    assert status in (401, 403), answer
    context = chromium.new_context(base_url=deployment.stack.url)  # a browser without the cookie
    try:
        assert context.request.get("/vtex/page/").status == 401
    finally:
        context.close()


def test_the_page_shows_the_stuck_order_the_refusal_and_the_throttled_drain(
    deployment: Deployment, chromium: Browser
) -> None:
    sandbox = deployment.sandbox
    two_hours_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sandbox.configure_feed(
        {
            "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
            "queue": {"visibilityTimeoutInSeconds": 300, "MessageRetentionPeriodInSeconds": 345600},
        },
        app_key=APP_KEY,
    )
    sandbox.place_order(STUCK_ORDER, status="ready-for-handling", creationDate=two_hours_ago)
    for order_id in DRAINED:
        sandbox.place_order(order_id, status="ready-for-handling")
    # VTEX throttles the drain: three 429s asking for a second's wait.
    sandbox.add_fault("start_handling", "status", status=429, retry_after=1, count=3)

    status, run = deployment.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None})
    assert status == 200, run
    run_id = run["dag_run_id"]
    state = wait_for(
        "the scenario's run to finish",
        lambda: (
            (s := deployment.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")[1]["state"])
            in ("success", "failed")
            and s
        ),
        timeout=180,
        interval=1,
    )
    assert state == "failed"  # the refused invoice fails its task, and so the run
    assert sandbox.order(DRAINED[0])["status"] == "invoiced"

    page = _signed_in_page(chromium, deployment)
    try:
        # Found the way a newcomer finds it: in the UI's navigation, opening in Airflow's frame.
        page.goto("/")
        # One plugin view is a button of its own in the navigation; two or more go under "Plugins".
        entry = page.get_by_text("VTEX", exact=True).or_(page.get_by_role("button", name="Plugins")).first
        entry.wait_for()
        entry.click()
        if not page.url.endswith("/plugin/vtex"):
            page.get_by_role("menuitem", name="VTEX").click()
        page.wait_for_url("**/plugin/vtex")
        frame = page.frame_locator("iframe")
        account = frame.locator('section[data-conn-id="vtex_default"]')
        expect(account).to_be_visible()
        page.mouse.move(0, 0)
        page.wait_for_timeout(400)
        page.screenshot(path=str(deployment.shots / "vtex-page.png"), full_page=True)

        # Intake: what VTEX holds: the feed's events of the orders placed, the orders still ready for
        # handling (the stuck one and the sandbox's seed), not the drained ones.
        ready = sorted(i for i, o in sandbox.summary().items() if o["status"] == "ready-for-handling")
        assert STUCK_ORDER in ready
        assert not set(DRAINED) & set(ready)
        intake = account.locator(".figures")
        expect(intake.locator(".figure").filter(has_text="Ready for handling").locator("b")).to_have_text(
            str(len(ready))
        )
        expect(intake.locator(".figure").filter(has_text="Feed queue").locator("b")).not_to_have_text("-")
        # Stuck: ready for handling for two hours, no task touched it.
        stuck = account.locator("table.stuck")
        expect(stuck).to_contain_text(STUCK_ORDER)
        expect(stuck.locator("tr").filter(has_text=STUCK_ORDER)).to_contain_text(
            "ready for handling over 30 min"
        )
        # Refusals and throttling per DAG.
        row = account.locator("table.activity tr").filter(has_text=DAG_ID)
        text = row.inner_text()
        cells = [c.strip() for c in text.split("\t")]
        assert cells[0] == DAG_ID, cells
        assert cells[1] == "3", cells  # three task tries
        assert re.search(r"^(OMS\d+|HTTP 4\d\d) \(1\)$", cells[3]), cells
        assert cells[4] == "3", cells  # the three 429s
        assert float(cells[5].removesuffix(" s")) >= 3.0, cells  # a second each, as VTEX asked
        assert cells[6] == "refused 1, success 2", cells
        # The chart: orders in and out this hour.
        expect(account.locator("svg.chart rect")).to_have_count(2)

        html = page.content() + frame.locator("body").inner_html()
        assert APP_TOKEN not in html
        assert APP_KEY not in html
    finally:
        page.context.close()

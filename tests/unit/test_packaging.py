"""What ``pip install airflow-provider-vtex`` (and ``vtex-sandbox``) will get: the wheels and sdists of
both distributions of this repository, built here (or by ``make dist``: ``VTEX_DIST_DIR=dist``) and opened.

A packaging slip (a data file left out of the wheel, an entry point renamed, the LICENSE or the docs the
README links to missing from the sdist) does not show in the other tests, which run against the source
tree; here it fails CI. The build uses ``python -m build --no-isolation`` (sdist first, then the wheel
*from the sdist*, so an incomplete sdist fails too) with the ``build`` and ``hatchling`` of this venv:
no package index is contacted. The provider's wheel must hold no sandbox, no pytest plugin and no console
script (they would reach every production Airflow); the sandbox's must install and run without Airflow.
With ``VTEX_DIST_DIR`` set (CI, after ``make dist``) the artifacts there are checked instead of building
them again: one build, reused by these checks and by the smoke runs.
"""

from __future__ import annotations

import configparser
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_vtex import __version__
from airflow_provider_vtex.get_provider_info import get_provider_info
from tests.conftest import REPO_ROOT

PACKAGE = "airflow_provider_vtex"
SANDBOX_ROOT = REPO_ROOT / "sandbox"
SANDBOX_PACKAGE = "vtex_sandbox"
#: Entry points Airflow relies on: {group: {name: target}}. Nothing else: no pytest plugin, no script.
ENTRY_POINTS = {
    "apache_airflow_provider": {"provider_info": f"{PACKAGE}.get_provider_info:get_provider_info"},
    # The VTEX page (Airflow 3.1+): its plugin class.
    "airflow.plugins": {"vtex": f"{PACKAGE}.plugins.plugin:VtexPlugin"},
}
#: The sandbox's entry points: its pytest fixtures and its command.
SANDBOX_ENTRY_POINTS = {
    "pytest11": {"vtex_sandbox": f"{SANDBOX_PACKAGE}.pytest_plugin"},
    "console_scripts": {"vtex-sandbox": f"{SANDBOX_PACKAGE}.__main__:main"},
}


class Built:
    """The wheel and sdist of one build, with their file lists."""

    def __init__(self, folder: Path, package: str = PACKAGE) -> None:
        self.package = package
        wheels = sorted(folder.glob(f"{package}-*.whl"))
        sdists = sorted(folder.glob(f"{package}-*.tar.gz"))
        assert len(wheels) == 1, f"expected one {package} wheel in {folder}"
        assert len(sdists) == 1, f"expected one {package} sdist in {folder}"
        self.wheel_path, self.sdist_path = wheels[0], sdists[0]
        with zipfile.ZipFile(self.wheel_path) as wheel:
            self.wheel_files = set(wheel.namelist())
            self._wheel_text = {
                name: wheel.read(name).decode("utf-8")
                for name in self.wheel_files
                if ".dist-info/" in name and not name.endswith("RECORD")
            }
        with tarfile.open(self.sdist_path) as sdist:
            root = sdist.getnames()[0].split("/")[0]
            self.sdist_root = root
            self.sdist_files = {
                name.removeprefix(root + "/") for name in sdist.getnames() if sdist.getmember(name).isfile()
            }
            member = sdist.extractfile(f"{root}/LICENSE")
            self.sdist_license = member.read().decode("utf-8") if member is not None else ""

    def dist_info(self, name: str) -> str:
        (folder,) = {n.split("/")[0] for n in self._wheel_text if n.split("/")[0].endswith(".dist-info")}
        return self._wheel_text[f"{folder}/{name}"]

    def entry_points(self) -> dict[str, dict[str, str]]:
        parser = configparser.ConfigParser(delimiters=("=",))
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep names as written, not lowercased
        parser.read_string(self.dist_info("entry_points.txt"))
        return {group: dict(parser[group]) for group in parser.sections()}

    def metadata(self) -> Any:
        return Parser().parsestr(self.dist_info("METADATA"))


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both distributions' wheels and sdists: ``make dist``'s (``VTEX_DIST_DIR``), or built here."""
    given = os.environ.get("VTEX_DIST_DIR")
    if given:
        return (REPO_ROOT / given).resolve()
    for tool in ("build", "hatchling"):
        if importlib.util.find_spec(tool) is None:
            pytest.fail(
                f"`{tool}` is not installed in {sys.prefix}: install the test extras (pip install -e '.[test]')"
            )
    out = tmp_path_factory.mktemp("dist")
    for source in (REPO_ROOT, SANDBOX_ROOT):
        done = subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"python -m build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def built(dist_dir: Path) -> Built:
    return Built(dist_dir)


@pytest.fixture(scope="module")
def built_sandbox(dist_dir: Path) -> Built:
    return Built(dist_dir, SANDBOX_PACKAGE)


def package_files(source: Path = REPO_ROOT, package: str = PACKAGE) -> set[str]:
    """Every file of the package in the source tree (code and data), as wheel paths."""
    root = source / package
    return {
        path.relative_to(source).as_posix()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_the_wheel_holds_every_package_file_including_data(built: Built) -> None:
    expected = package_files()
    assert f"{PACKAGE}/py.typed" in expected
    missing = expected - built.wheel_files
    assert not missing, f"files of the package missing from the wheel: {sorted(missing)}"
    stray = {
        name
        for name in built.wheel_files - expected
        if not name.startswith(f"{PACKAGE}-{__version__}.dist-info/")
    }
    assert not stray, f"files in the wheel that are not part of the package: {sorted(stray)}"


def test_the_provider_wheel_holds_no_sandbox_no_plugin_and_no_script(built: Built) -> None:
    sandbox_files = [name for name in built.wheel_files if "sandbox" in name.lower()]
    assert not sandbox_files, f"sandbox files in the provider's wheel: {sandbox_files[:10]}"
    groups = set(built.entry_points())
    assert not groups & {"pytest11", "console_scripts", "gui_scripts"}, groups


@pytest.mark.parametrize("which", ["provider", "sandbox"])
def test_the_wheel_declares_the_entry_points_and_each_resolves(
    which: str, built: Built, built_sandbox: Built
) -> None:
    wheel, expected = (built, ENTRY_POINTS) if which == "provider" else (built_sandbox, SANDBOX_ENTRY_POINTS)
    assert wheel.entry_points() == expected
    for targets in expected.values():
        for target in targets.values():
            module_name, _, attribute = target.partition(":")
            module = importlib.import_module(module_name)
            assert not attribute or callable(getattr(module, attribute)), f"{target} does not resolve"


def test_the_metadata_says_what_pypi_shows(built: Built) -> None:
    metadata = built.metadata()
    assert metadata["Name"] == "airflow-provider-vtex"
    assert metadata["Version"] == __version__ == get_provider_info()["versions"][0]
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["License-File"] == "LICENSE"
    assert metadata["Requires-Python"] == ">=3.10"
    classifiers = set(metadata.get_all("Classifier"))
    assert {"Framework :: Apache Airflow", "Framework :: Apache Airflow :: Provider"} <= classifiers
    assert {f"Programming Language :: Python :: 3.{minor}" for minor in (10, 11, 12, 13)} <= classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert metadata.get_all("Project-URL"), "no project URLs"
    assert metadata["Description-Content-Type"] == "text/markdown"


def test_every_dependency_but_airflow_has_an_upper_bound(built: Built) -> None:
    requirements = [r for r in built.metadata().get_all("Requires-Dist") if "extra ==" not in r]
    names = {re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0] for r in requirements}
    assert names == {
        "apache-airflow",
        "requests",
        "pydantic",
        "tenacity",
        "urllib3",
        "httpx",
        "asgiref",
        "structlog",
    }
    # structlog has calendar versions (year.minor): no next major release to stay below.
    unbounded = [
        r for r in requirements if not r.startswith(("apache-airflow", "structlog")) and "<" not in r
    ]
    assert not unbounded, f"dependencies without an upper bound: {unbounded}"


def test_both_carry_the_apache_license(built: Built) -> None:
    license_text = (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in license_text
    assert "Version 2.0, January 2004" in license_text
    assert built.dist_info("licenses/LICENSE") == license_text
    assert built.sdist_license == license_text


def test_the_sdist_carries_what_the_readme_links_to(built: Built) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    links = {
        target.split("#")[0]
        for target in re.findall(r"\]\(([^)\s]+)\)", readme)
        if not re.match(r"[a-z]+:|#", target)
    }
    assert any(link.startswith("docs/") for link in links), "the README links no docs/ file any more?"
    for link in sorted(links):
        assert (REPO_ROOT / link).exists(), f"the README links {link}, which does not exist"
        if link.startswith("sandbox/"):  # the other distribution of this repository, with its own sdist
            continue
        assert link in built.sdist_files, f"the README links {link}, which the sdist lacks"


def test_the_sdist_holds_the_sources_tests_and_examples_and_nothing_local(built: Built) -> None:
    files = built.sdist_files
    assert {"README.md", "LICENSE", "pyproject.toml", "PKG-INFO"} <= files
    assert package_files() <= files
    assert {p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "example_dags").glob("*.py")} <= files
    assert "tests/conftest.py" in files
    assert not [name for name in files if name.startswith("sandbox/")], "the sandbox has its own sdist"
    local = [
        name
        for name in files
        if name.startswith((".venv", ".airflow", "dist/", "build/")) or "__pycache__" in name
    ]
    assert not local, f"local files in the sdist: {local[:10]}"


# ------------------------------------------------------------------------------------ the sandbox's dist


def test_the_sandbox_wheel_holds_the_sandbox_and_nothing_else(built_sandbox: Built) -> None:
    expected = package_files(SANDBOX_ROOT, SANDBOX_PACKAGE)
    assert f"{SANDBOX_PACKAGE}/seed_orders.json" in expected
    missing = expected - built_sandbox.wheel_files
    assert not missing, f"files of the sandbox missing from its wheel: {sorted(missing)}"
    stray = {n for n in built_sandbox.wheel_files - expected if ".dist-info/" not in n}
    assert not stray, f"files in the sandbox's wheel that are not part of it: {sorted(stray)}"


def test_the_sandbox_requires_neither_airflow_nor_the_provider(built_sandbox: Built) -> None:
    metadata = built_sandbox.metadata()
    assert metadata["Name"] == "vtex-sandbox"
    requirements = metadata.get_all("Requires-Dist") or []
    assert [r for r in requirements if "extra ==" not in r] == [], (
        "the sandbox needs the standard library only"
    )
    named = " ".join(requirements)
    assert "airflow" not in named, requirements
    assert built_sandbox.dist_info("licenses/LICENSE") == (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert {
        "README.md",
        "LICENSE",
        "pyproject.toml",
        "PKG-INFO",
        "tests/test_routes.py",
    } <= built_sandbox.sdist_files


def test_the_sandbox_wheel_installs_and_runs_without_airflow(built_sandbox: Built, tmp_path: Path) -> None:
    """A venv with the sandbox's wheel alone (offline: it has no dependencies): its command runs, and
    neither Airflow nor the provider is importable there."""
    venv = tmp_path / "venv"
    uv = shutil.which("uv")
    if uv is not None:
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        install = [uv, "pip", "install", "--quiet", "--offline", "--python", str(venv / "bin" / "python")]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index"]
    subprocess.run([*install, str(built_sandbox.wheel_path)], check=True, capture_output=True, timeout=120)
    done = subprocess.run(
        [str(venv / "bin" / "vtex-sandbox"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--invoice-visibility-delay" in done.stdout
    probe = (
        "import importlib.util as u, vtex_sandbox.app;"
        "print([m for m in ('airflow', 'airflow_provider_vtex') if u.find_spec(m)])"
    )
    found = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert found.stdout.strip() == "[]", found.stdout

"""What ``pip install airflow-provider-vtex`` will get: the wheel and the sdist, built here and opened.

A packaging slip (a data file left out of the wheel, an entry point renamed, the LICENSE or the docs the
README links to missing from the sdist) does not show in the other tests, which run against the source
tree; here it fails CI. The build uses ``python -m build --no-isolation`` (sdist first, then the wheel
*from the sdist*, so an incomplete sdist fails too) with the ``build`` and ``hatchling`` of this venv:
no package index is contacted.
"""

from __future__ import annotations

import configparser
import importlib
import importlib.util
import re
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
#: Entry points Airflow, pytest and the shell rely on: {group: {name: target}}.
ENTRY_POINTS = {
    "apache_airflow_provider": {"provider_info": f"{PACKAGE}.get_provider_info:get_provider_info"},
    "pytest11": {"vtex_sandbox": f"{PACKAGE}.sandbox.pytest_plugin"},
    "console_scripts": {"vtex-sandbox": f"{PACKAGE}.sandbox.__main__:main"},
}


class Built:
    """The wheel and sdist of one build, with their file lists."""

    def __init__(self, folder: Path) -> None:
        wheels = sorted(folder.glob("*.whl"))
        sdists = sorted(folder.glob("*.tar.gz"))
        assert len(wheels) == 1, f"expected one wheel in {folder}"
        assert len(sdists) == 1, f"expected one sdist in {folder}"
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
        return self._wheel_text[f"{PACKAGE}-{__version__}.dist-info/{name}"]

    def metadata(self) -> Any:
        return Parser().parsestr(self.dist_info("METADATA"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    for tool in ("build", "hatchling"):
        if importlib.util.find_spec(tool) is None:
            pytest.fail(
                f"`{tool}` is not installed in {sys.prefix}: install the test extras (pip install -e '.[test]')"
            )
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO_ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"python -m build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return Built(out)


def package_files() -> set[str]:
    """Every file of the package in the source tree (code and data), as wheel paths."""
    root = REPO_ROOT / PACKAGE
    return {
        path.relative_to(REPO_ROOT).as_posix()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_the_wheel_holds_every_package_file_including_data(built: Built) -> None:
    expected = package_files()
    assert f"{PACKAGE}/py.typed" in expected
    assert f"{PACKAGE}/sandbox/seed_orders.json" in expected
    missing = expected - built.wheel_files
    assert not missing, f"files of the package missing from the wheel: {sorted(missing)}"
    stray = {
        name
        for name in built.wheel_files - expected
        if not name.startswith(f"{PACKAGE}-{__version__}.dist-info/")
    }
    assert not stray, f"files in the wheel that are not part of the package: {sorted(stray)}"


def test_the_wheel_declares_the_entry_points_and_each_resolves(built: Built) -> None:
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep names as written, not lowercased
    parser.read_string(built.dist_info("entry_points.txt"))
    declared = {group: dict(parser[group]) for group in parser.sections()}
    assert declared == ENTRY_POINTS
    for targets in ENTRY_POINTS.values():
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
    assert names == {"apache-airflow", "requests", "pydantic", "tenacity"}
    unbounded = [r for r in requirements if not r.startswith("apache-airflow") and "<" not in r]
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
        assert link in built.sdist_files, f"the README links {link}, which the sdist lacks"


def test_the_sdist_holds_the_sources_tests_and_examples_and_nothing_local(built: Built) -> None:
    files = built.sdist_files
    assert {"README.md", "LICENSE", "pyproject.toml", "PKG-INFO"} <= files
    assert package_files() <= files
    assert {p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "example_dags").glob("*.py")} <= files
    assert "tests/conftest.py" in files
    local = [
        name
        for name in files
        if name.startswith((".venv", ".airflow", "dist/", "build/")) or "__pycache__" in name
    ]
    assert not local, f"local files in the sdist: {local[:10]}"

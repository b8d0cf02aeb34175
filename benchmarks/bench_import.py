"""Import cost of the provider's operators and sensor on top of ``airflow.sdk``.

Every DAG file that uses the provider imports its operators at parse time, in every DAG-processor
loop, so their import cost is paid again and again. Fresh interpreters, interleaved:

* **A**: ``import airflow.sdk``;
* **B**: ``import airflow.sdk``, then ``airflow_provider_vtex.operators.invoice``, ``.operators.tracking``,
  ``.operators.bulk`` (when present) and ``.sensors.order_status``.

Importing ``airflow.sdk`` takes about a second and wanders by ±100 ms from run to run on a noisy
machine, so the wall-clock difference B - A is printed but the figure held against the target is
measured inside each B interpreter: the time from ``airflow.sdk`` imported to our modules imported
(median over runs). The same is shown after ``from airflow.sdk import dag, task, BaseOperator, BaseHook,
BaseSensorOperator`` (what a DAG file has loaded anyway). ``python -X importtime`` then says which of our
modules, and which libraries first imported by them, cost the most. Run::

    .venv/bin/python benchmarks/bench_import.py [--runs 15]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time

from _common import Report, median, prepare_environment, print_header, verdict

TARGET_MS = 15.0
OUR_MODULES = [
    "airflow_provider_vtex.operators.invoice",
    "airflow_provider_vtex.operators.tracking",
    "airflow_provider_vtex.operators.bulk",
    "airflow_provider_vtex.sensors.order_status",
]
DAG_FILE_IMPORTS = "from airflow.sdk import dag, task, BaseOperator, BaseHook, BaseSensorOperator"

_CHILD = """
import json, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
{dag_file}
t2 = time.perf_counter()
{ours}
t3 = time.perf_counter()
print(json.dumps({{"sdk": (t1 - t0) * 1000, "dag_file": (t2 - t1) * 1000, "ours": (t3 - t2) * 1000}}))
"""


def present_modules() -> list[str]:
    found = []
    for name in OUR_MODULES:
        try:
            if importlib.util.find_spec(name) is not None:
                found.append(name)
        except ImportError:
            pass
    return found


def child_code(modules: list[str], *, dag_file: bool) -> str:
    return _CHILD.format(
        dag_file=DAG_FILE_IMPORTS if dag_file else "",
        ours="\n".join(f"import {name}" for name in modules),
    )


def run_child(code: str) -> tuple[float, dict[str, float]]:
    """Wall time of a fresh interpreter running ``code`` (ms), and the timings it printed."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ.copy()
    )
    wall = (time.perf_counter() - started) * 1000
    return wall, json.loads(result.stdout.strip().splitlines()[-1])


_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def attribution(
    modules: list[str], top: int = 8
) -> tuple[list[tuple[str, float]], list[tuple[str, str, float]]]:
    """From ``-X importtime``: our modules by their own (self) ms, and the other modules our code
    imported first (not loaded by ``airflow.sdk`` before), with the module of ours that imported them."""
    code = "import airflow.sdk\n" + "\n".join(f"import {name}" for name in modules)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    rows = []
    for line in result.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            rows.append((int(match[1]), int(match[2]), len(match[3]) // 2, match[4]))
    # Modules are listed as they finish; everything after airflow.sdk's own top-level line is ours.
    last_sdk = max(i for i, row in enumerate(rows) if row[3] == "airflow.sdk" and row[2] == 0)
    ours = rows[last_sdk + 1 :]
    own = sorted(
        ((name, own_us / 1000) for own_us, _, _, name in ours if name.startswith("airflow_provider_vtex")),
        key=lambda item: -item[1],
    )
    pulled: list[tuple[str, str, float]] = []
    for index, (_, cumulative, depth, name) in enumerate(ours):
        if name.startswith("airflow_provider_vtex"):
            continue
        # The parent is the next line one level up (parents finish after their children).
        parent = next((row[3] for row in ours[index + 1 :] if row[2] == depth - 1), "?")
        if parent.startswith("airflow_provider_vtex"):
            pulled.append((name, parent, cumulative / 1000))
    pulled.sort(key=lambda item: -item[2])
    return own, pulled[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per variant")
    args = parser.parse_args(argv)

    prepare_environment()
    print_header("bench_import: import cost of the provider on top of airflow.sdk")
    report = Report("bench_import", "Import cost")
    modules = present_modules()
    print(f"   {args.runs} fresh interpreters per variant, interleaved; ours = {', '.join(modules)}")
    base = child_code([], dag_file=False)
    with_ours = child_code(modules, dag_file=False)
    after_dag_file = child_code(modules, dag_file=True)
    run_child(with_ours)  # warm the file system cache and .pyc files

    walls: dict[str, list[float]] = {"A": [], "B": []}
    ours_ms: list[float] = []
    ours_after_dag_file_ms: list[float] = []
    sdk_ms: list[float] = []
    for run in range(args.runs):
        order = ("A", "B", "C") if run % 2 == 0 else ("C", "B", "A")
        for variant in order:
            if variant == "A":
                wall, timings = run_child(base)
                walls["A"].append(wall)
                sdk_ms.append(timings["sdk"])
            elif variant == "B":
                wall, timings = run_child(with_ours)
                walls["B"].append(wall)
                ours_ms.append(timings["ours"])
            else:
                _, timings = run_child(after_dag_file)
                ours_after_dag_file_ms.append(timings["ours"])

    wall_diff = median([b - a for a, b in zip(walls["A"], walls["B"], strict=True)])
    ours = median(ours_ms)
    print("-- results (medians)")
    print(
        f"   import airflow.sdk alone: {median(sdk_ms):.0f} ms in-process; wall {median(walls['A']):.0f} ms (A)"
    )
    print(
        f"   our modules after `import airflow.sdk`: {ours:.1f} ms in-process "
        f"(runs {min(ours_ms):.1f}..{max(ours_ms):.1f})"
    )
    print(
        f"   wall clock, whole interpreter: B - A {wall_diff:+.0f} ms (median of pairs), "
        f"min B - min A {min(walls['B']) - min(walls['A']):+.0f} ms; too noisy to judge 15 ms "
        f"(A alone ranged {min(walls['A']):.0f}..{max(walls['A']):.0f} ms)"
    )
    print(
        f"   our modules after `{DAG_FILE_IMPORTS}`: {median(ours_after_dag_file_ms):.1f} ms "
        "(the part that is ours alone)"
    )
    print(
        f"-- against the target: {ours:.1f} ms more than airflow.sdk alone (target <= {TARGET_MS:g} ms: "
        f"{verdict(ours <= TARGET_MS)})"
    )
    report.row(
        f"Importing {', '.join(f'`{m}`' for m in modules)} after `import airflow.sdk` "
        f"(median of {args.runs} fresh interpreters)",
        f"**{ours:.1f} ms** (runs {min(ours_ms):.1f} to {max(ours_ms):.1f}); `import airflow.sdk` itself "
        f"took {median(sdk_ms):.0f} ms",
        f"<= {TARGET_MS:g} ms ({verdict(ours <= TARGET_MS)})",
    )
    report.row(
        f"The same after `{DAG_FILE_IMPORTS}` (the part that is ours alone)",
        f"{median(ours_after_dag_file_ms):.1f} ms",
        "for reference",
    )
    report.write()
    own, pulled = attribution(modules)
    print("-- where it goes (python -X importtime, one run)")
    print("   our modules by own time: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in own[:6]))
    if pulled:
        print("   heaviest modules first imported by ours (not already loaded by airflow.sdk), cumulative:")
        for name, parent, ms in pulled:
            print(f"     {ms:6.1f} ms  {name}  (imported by {parent})")
    else:
        print(
            "   no other library is first imported by ours: airflow.sdk has already loaded what they import"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

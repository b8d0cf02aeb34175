"""The VTEX page as HTML: tables, and one chart drawn as inline SVG on the server (no script, nothing
fetched from elsewhere: Airflow deployments often have no internet).

Everything shown is escaped; links to DAG runs and tasks open in Airflow's own window (``target=_top``:
the page lives in the frame of Airflow's UI).
"""

from __future__ import annotations

import html
import math
import urllib.parse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt

    from airflow_provider_vtex.plugins.vtex_page_data import (
        AccountView,
        DagActivity,
        Minute,
        StuckOrder,
        TaskRecord,
        VtexFigures,
    )

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 16px 24px; color: #1a202c; background: #fff; }
h1 { font-size: 1.5em; margin: 0 0 4px; } h2 { font-size: 1.2em; margin: 28px 0 8px; color: #f71963; }
h3 { font-size: 1.05em; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 4px 0 8px; } th, td { border-bottom: 1px solid #e2e8f0;
padding: 4px 12px 4px 0; text-align: left; vertical-align: top; } th { color: #4a5568; font-weight: 600; }
td.n { text-align: right; } .muted { color: #718096; font-size: 0.9em; } .bad { color: #c53030; }
.ok { color: #2f855a; } .figures { display: flex; gap: 28px; flex-wrap: wrap; }
.figure { border: 1px solid #e2e8f0; border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.figure b { display: block; font-size: 1.4em; } a { color: #2b6cb0; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def duration(seconds: float | None) -> str:
    """``3 h 5 min``, ``4 min``, ``12 s``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _since(at: dt.datetime | None, now: dt.datetime) -> str:
    return "-" if at is None else duration((now - at).total_seconds())


def task_link(record: TaskRecord | None, base_path: str) -> str:
    """A link to the task (and its DAG run) in Airflow's UI."""
    if record is None:
        return '<span class="muted">no task recorded</span>'
    quote = urllib.parse.quote
    run = f"{base_path}/dags/{quote(record.dag_id, safe='')}/runs/{quote(record.run_id, safe='')}"
    task = f"{run}/tasks/{quote(record.task_id, safe='')}"
    if record.map_index >= 0:
        task += f"/mapped/{record.map_index}"
    return (
        f'<a target="_top" href="{esc(run)}">{esc(record.dag_id)} / {esc(record.run_id)}</a>'
        f' &rarr; <a target="_top" href="{esc(task)}">{esc(record.task_id)}'
        f"{'[' + str(record.map_index) + ']' if record.map_index >= 0 else ''}</a>"
    )


def _figure(label: str, value: str, note: str = "") -> str:
    return f'<div class="figure"><span class="muted">{esc(label)}</span><b>{esc(value)}</b>{note}</div>'


def intake(vtex: VtexFigures | None, now: dt.datetime, last_notification: dt.datetime | None = None) -> str:
    if vtex is None:
        return '<p class="muted">VTEX not read.</p>'
    feed = "-" if vtex.feed_queue is None else str(vtex.feed_queue)
    ready = "-" if vtex.ready_count is None else str(vtex.ready_count)
    parts = [
        '<div class="figures">',
        _figure("Feed queue", feed, f'<span class="muted">{esc(vtex.feed_note or "items waiting")}</span>'),
        _figure("Oldest feed item", duration(vtex.feed_oldest_seconds)),
        _figure(
            "Order hook",
            vtex.hook,
            '<span class="muted">'
            + (
                f"last change pushed {esc(_since(last_notification, now))} ago"
                if last_notification is not None
                else "no change pushed lately"
            )
            + "</span>",
        ),
        _figure("Ready for handling", ready, '<span class="muted">orders waiting</span>'),
        _figure(
            "Oldest ready order",
            _since(vtex.ready_oldest, now),
            '<span class="muted">since it was placed</span>',
        ),
        "</div>",
        f'<p class="muted">VTEX read {esc(duration((now - vtex.read_at).total_seconds()))} ago '
        f"(at most once a minute per connection).</p>",
    ]
    if vtex.error:
        parts.append(f'<p class="bad">Could not read VTEX: {esc(vtex.error)}</p>')
    return "".join(parts)


def stuck_table(stuck: list[StuckOrder], now: dt.datetime, base_path: str) -> str:
    if not stuck:
        return '<p class="ok">No stuck order.</p>'
    rows = "".join(
        f"<tr><td>{esc(s.order_id)}</td><td>{esc(s.why)}</td><td>{esc(_since(s.since, now))}</td>"
        f"<td>{task_link(s.last_task, base_path)}</td></tr>"
        for s in stuck
    )
    return (
        '<table class="stuck"><tr><th>Order</th><th>Why</th><th>For</th><th>Last touched by</th></tr>'
        f"{rows}</table>"
    )


def activity_table(dags: list[DagActivity]) -> str:
    if not dags:
        return '<p class="muted">No VTEX task ended in this window.</p>'
    rows = []
    for a in dags:
        refusals = ", ".join(f"{esc(code)} ({n})" for code, n in sorted(a.refusals.items())) or "-"
        outcomes = ", ".join(f"{esc(o)} {n}" for o, n in sorted(a.outcomes.items()))
        rows.append(
            f"<tr><td>{esc(a.dag_id)}</td><td class='n'>{a.tasks}</td><td class='n'>{a.requests}</td>"
            f"<td>{refusals}</td><td class='n'>{a.rate_limited}</td>"
            f"<td class='n'>{a.waited_seconds:.1f} s</td><td>{outcomes}</td></tr>"
        )
    return (
        '<table class="activity"><tr><th>DAG</th><th>Task tries</th><th>Requests</th>'
        "<th>Refused (4xx by VTEX code)</th><th>429s</th><th>Waited for rate limits</th><th>Outcomes</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def chart(minutes: list[Minute], budget_per_minute: float | None = None) -> str:
    """Orders in and out per minute (bars) and requests per minute (line) against the account's budget
    (a dashed line, when the connection sets one), as inline SVG."""
    width, height, left, bottom, top = 720, 180, 40, 22, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max([1, *(max(m.orders_in, m.orders_out, m.requests) for m in minutes)])
    if budget_per_minute is not None:
        peak = max(peak, math.ceil(budget_per_minute))
    step = plot_w / max(len(minutes), 1)
    bar = max(step / 2 - 1, 1)

    def y(value: float) -> float:
        return top + plot_h - value * plot_h / peak

    parts = [
        f'<svg class="chart" role="img" aria-label="orders and requests per minute" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#a0aec0"/>',
        f'<text x="{left - 6}" y="{top + 8}" font-size="10" text-anchor="end">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    points = []
    for i, m in enumerate(minutes):
        x = left + i * step
        if m.orders_in:
            parts.append(
                f'<rect x="{x:.1f}" y="{y(m.orders_in):.1f}" width="{bar:.1f}" '
                f'height="{top + plot_h - y(m.orders_in):.1f}" fill="#3182ce"><title>{m.orders_in} in</title></rect>'
            )
        if m.orders_out:
            parts.append(
                f'<rect x="{x + bar + 1:.1f}" y="{y(m.orders_out):.1f}" width="{bar:.1f}" '
                f'height="{top + plot_h - y(m.orders_out):.1f}" fill="#38a169"><title>{m.orders_out} out</title></rect>'
            )
        points.append(f"{x + bar:.1f},{y(m.requests):.1f}")
        if m.rate_limited:
            parts.append(
                f'<circle cx="{x + bar:.1f}" cy="{y(m.requests):.1f}" r="3" fill="#e53e3e">'
                f"<title>{m.rate_limited} 429s</title></circle>"
            )
        if i % 10 == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 6}" font-size="10">{m.start.strftime("%H:%M")}</text>'
            )
    parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#f71963" stroke-width="1.5"/>')
    if budget_per_minute is not None:
        parts.append(
            f'<line class="budget" x1="{left}" y1="{y(budget_per_minute):.1f}" x2="{width - 10}" '
            f'y2="{y(budget_per_minute):.1f}" stroke="#718096" stroke-dasharray="4 3">'
            f"<title>the account's budget: {budget_per_minute:g} requests a minute</title></line>"
        )
    parts.append("</svg>")
    legend = (
        '<p class="muted"><span style="color:#3182ce">&#9632;</span> orders taken into handling '
        '<span style="color:#38a169">&#9632;</span> invoices sent '
        '<span style="color:#f71963">&#9472;</span> requests to VTEX (the budget used) '
        '<span style="color:#e53e3e">&#9679;</span> minutes with 429s '
        + (
            f'<span style="color:#718096">- -</span> the account\'s budget ({budget_per_minute:g} a minute) '
            if budget_per_minute is not None
            else ""
        )
        + "&mdash; UTC, each task counted at the minute it ended</p>"
    )
    return "".join(parts) + legend


def render_page(
    accounts: list[AccountView],
    now: dt.datetime,
    *,
    hours: float,
    stuck_minutes: float,
    tracking_hours: float,
    base_path: str,
) -> str:
    sections = []
    for account in accounts:
        sections.append(
            f'<section class="account" data-conn-id="{esc(account.conn_id)}">'
            f"<h2>Connection {esc(account.conn_id)}</h2>"
            f"<h3>Intake</h3>{intake(account.vtex, now, account.last_notification)}"
            f"<h3>Stuck orders</h3>{stuck_table(account.stuck, now, base_path)}"
            f"<h3>Refusals and throttling, last {hours:g} h</h3>{activity_table(account.dags)}"
            f"<h3>Orders in and out, last hour</h3>{chart(account.minutes, account.vtex.budget_per_minute if account.vtex else None)}"
            "</section>"
        )
    if not sections:
        sections.append('<p class="muted">No connection of type vtex, and no VTEX task recorded yet.</p>')
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>VTEX</title>'
        f"<style>{_STYLE}</style></head><body><h1>VTEX</h1>"
        f'<p class="muted">Stuck: ready for handling over {stuck_minutes:g} min, an unknown write outcome, '
        f"or no tracking {tracking_hours:g} h after the invoice. Airflow's figures come from the tasks' "
        f"<code>vtex_report</code> XComs; page rendered {esc(now.strftime('%Y-%m-%d %H:%M:%S'))} UTC.</p>"
        + "".join(sections)
        + "</body></html>"
    )

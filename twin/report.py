"""Self-contained HTML reports with inline SVG charts (no plotting library needed)."""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
FLAG_COLOR = "#d62728"
CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: 4px 8px; }
th { background: #f3f3f3; text-align: left; } .flagged { color: #b00; font-weight: bold; } .ok { color: #070; }
.note { color: #555; font-size: 0.9em; } svg { background: #fff; }
"""


def _ticks(lo: float, hi: float, n: int = 5) -> list:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    first = math.ceil(lo / step) * step
    return [first + k * step for k in range(int((hi - first) / step) + 1)]


def line_chart(x, ys, labels=None, highlight=(), title="", xlabel="", ylabel="", markers=(), width=1000, height=260) -> str:
    """SVG chart of several series over a common x; highlighted series drawn thick and red;
    markers: (x, text) vertical lines."""
    x = np.asarray(x, dtype=float)
    ys = [np.asarray(y, dtype=float) for y in ys]
    left, right, top, bottom = 70, 20, 28, 40
    w, h = width - left - right, height - top - bottom
    finite = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.array([])
    if len(x) < 2 or finite.size == 0:
        return f'<svg width="{width}" height="60"><text x="10" y="30">{html.escape(title)}: no data</text></svg>'
    x0, x1 = float(np.nanmin(x)), float(np.nanmax(x))
    y0, y1 = float(np.min(finite)), float(np.max(finite))
    if y1 - y0 < 1e-12:
        y0, y1 = y0 - 1, y1 + 1
    pad = 0.05 * (y1 - y0)
    y0, y1 = y0 - pad, y1 + pad
    sx = lambda v: left + (v - x0) / (x1 - x0 or 1) * w  # noqa: E731
    sy = lambda v: top + (y1 - v) / (y1 - y0) * h  # noqa: E731
    parts = [f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" font-size="11">',
             f'<text x="{left}" y="16" font-size="13" font-weight="bold">{html.escape(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>']
    for t in _ticks(y0, y1):
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" stroke="#eee"/>'
                     f'<text x="{left - 5}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    for t in _ticks(x0, x1, 10):
        parts.append(f'<text x="{sx(t):.1f}" y="{top + h + 15}" text-anchor="middle">{t:g}</text>')
    parts.append(f'<text x="{left + w / 2}" y="{height - 5}" text-anchor="middle">{html.escape(xlabel)}</text>')
    parts.append(f'<text x="14" y="{top + h / 2}" transform="rotate(-90 14 {top + h / 2})" text-anchor="middle">'
                 f'{html.escape(ylabel)}</text>')
    order = [k for k in range(len(ys)) if k not in highlight] + [k for k in range(len(ys)) if k in highlight]
    for k in order:
        y = ys[k]
        ok = np.isfinite(y) & np.isfinite(x)
        if ok.sum() < 2:
            continue
        pts = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(x[ok], y[ok]))
        color = FLAG_COLOR if k in highlight else PALETTE[k % len(PALETTE)]
        width_ = 2.2 if k in highlight else 0.8
        opacity = 1.0 if k in highlight else 0.55
        label = html.escape(labels[k]) if labels else str(k)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="{width_}" '
                     f'stroke-opacity="{opacity}"><title>{label}</title></polyline>')
    for mx, text in markers:
        if x0 <= mx <= x1:
            parts.append(f'<line x1="{sx(mx):.1f}" x2="{sx(mx):.1f}" y1="{top}" y2="{top + h}" stroke="{FLAG_COLOR}" '
                         f'stroke-dasharray="4,3"/><text x="{sx(mx) + 3:.1f}" y="{top + 12}" fill="{FLAG_COLOR}">'
                         f'{html.escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


SERIES_PLOTS = (
    ("detect.deviation", 1e3, "Cell voltage minus the median cell, resistance-corrected", "mV"),
    ("estimate.charge_offset", 1e3, "Charge against the peers since the baseline run", "mAh"),
    ("estimate.resistance_change", 1e3, "Resistance change since the baseline", "mOhm"),
    ("estimate.voltage_offset", 1e3, "Voltage-sensor offset found", "mV"),
    ("estimate.temperature_offset", 1.0, "Temperature departure from the other sensors", "K"),
)


def _pack_section(result) -> str:
    out = []
    t = np.asarray(result.series.get("time", []), dtype=float) / 3600.0
    flagged_cells = sorted({f.cell for f in result.flags})
    markers = [(f.first_flagged_s / 3600.0, f"cell {f.cell} {f.kind}") for f in result.flags]
    labels = [f"cell {i}" for i in range(result.cells)]
    for key, scale, title, unit in SERIES_PLOTS:
        data = np.asarray(result.series.get(key, []), dtype=float)
        if data.size == 0 or not np.isfinite(data).any():
            continue
        ys = [data[:, i] * scale for i in range(data.shape[1])]
        out.append(line_chart(t, ys, labels, highlight=flagged_cells, title=f"{title} [{unit}]", xlabel="time [h]",
                              ylabel=unit, markers=markers))
    return "\n".join(out)


def _flag_table(flags) -> str:
    if not flags:
        return '<p class="ok">No cell diverges from its peers.</p>'
    rows = ["<table><tr><th>cell</th><th>kind</th><th>first flagged</th><th>magnitude</th><th>evidence</th></tr>"]
    for f in flags:
        mag = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in f.magnitude.items())
        rows.append(f'<tr><td class="flagged">{f.cell}</td><td>{f.kind}</td><td>{f.first_flagged_s / 3600:.2f} h</td>'
                    f"<td>{html.escape(mag)}</td><td>{html.escape(f.evidence)}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def write_replay_report(results, path) -> None:
    """One page for one or many replayed logs (ReplayResult objects)."""
    results = list(results)
    body = [f"<h1>twin replay: {len(results)} log{'s' if len(results) != 1 else ''}</h1>"]
    if len(results) > 1:
        body.append("<table><tr><th>log</th><th>status</th><th>flags</th></tr>")
        for r in results:
            cls = "flagged" if r.flags else "ok"
            summary = "; ".join(f"cell {f.cell} {f.kind}" for f in r.flags) or "-"
            body.append(f'<tr><td>{html.escape(Path(r.path).name)}</td><td class="{cls}">{r.status}</td>'
                        f"<td>{html.escape(summary)}</td></tr>")
        body.append("</table>")
    for r in results:
        body.append(f"<h2>{html.escape(Path(r.path).name)}</h2>")
        body.append(f'<p class="note">{r.cells} cells, {r.samples} samples over {(r.end_s - r.start_s) / 3600:.1f} h, '
                    f"{r.runs} charging/discharging runs measured charge offsets, {len(r.gaps)} gaps; parameters: "
                    f"{html.escape(r.parameters)}. Flagged cells are drawn red; dashed lines mark when a flag was "
                    f"first raised.</p>")
        body.append(_flag_table(r.flags))
        body.append(_pack_section(r))
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>twin replay</title><style>{CSS}</style>"
            f"</head><body>{''.join(body)}</body></html>")
    Path(path).write_text(page, encoding="utf-8")

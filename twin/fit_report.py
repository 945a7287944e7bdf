"""What a fit hands back besides the parameters: a self-contained HTML report with inline SVG plots
(no plotting library needed), a JSON summary, and the parameter file's header.

The report holds the findings (what the data identified, what it could not and which test would),
the residuals of every record (fitted and predicted), the estimates with their standard
uncertainties, and plots of measured against fitted voltage, the residuals and the fitted tables.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
from pathlib import Path

import numpy as np

from . import __version__
from .errors import FitError
from .params import write_parameter_file

COLORS = ("#1f5fa8", "#c8501e", "#2c8a3c", "#7b3fa0", "#8a6d1f")
MAX_POINTS = 1500


# --- the parameter file ---------------------------------------------------------------------------------

def header_lines(outcome, title: str, sources, command: str | None) -> list:
    today = _dt.date.today().isoformat()
    lines = [title, f"fitted by twin fit {outcome.kind} (twin {__version__}) on {today} from {', '.join(sources)}"]
    if command:
        lines.append(f"made by: {command}")
    for name, r in outcome.residuals.items():
        extra = ""
        if "absolute_rmse_mv" in r:
            extra = f"; absolute {r['absolute_rmse_mv']:.1f} mV RMSE"
        if r.get("rmse_mv_by_soc"):
            extra += "; RMSE by SOC: " + ", ".join(f"{k} {v:.1f} mV" for k, v in r["rmse_mv_by_soc"].items())
        lines.append(f"residual {name} ({r['role']}): {r['rmse_mv']:.1f} mV RMSE, max {r['max_mv']:.1f} mV{extra}")
    for f in outcome.findings:
        lines.append(f.line())
    lines += outcome.notes
    return lines


def write_fit_parameters(outcome, path, title: str, sources, command: str | None = None) -> None:
    """The fitted parameter set as TOML (or JSON) that twin simulate, replay and fmu build read as they are,
    with a header saying where it came from."""
    path = Path(path)
    write_parameter_file(outcome.params, path)
    if path.suffix.lower() == ".json":
        return
    body = path.read_text(encoding="utf-8")
    head = "".join(f"# {line}\n" for line in _wrap(header_lines(outcome, title, sources, command)))
    path.write_text(head + body, encoding="utf-8")


def _wrap(lines, width: int = 110) -> list:
    out = []
    for line in lines:
        words, cur = line.split(), ""
        for w in words:
            if cur and len(cur) + 1 + len(w) > width:
                out.append(cur)
                cur = "  " + w
            else:
                cur = f"{cur} {w}" if cur else w
        out.append(cur)
    return out


# --- JSON -----------------------------------------------------------------------------------------------------

def summary(outcome) -> dict:
    def num(x):
        x = float(x)
        return None if not math.isfinite(x) else x

    return {
        "kind": outcome.kind,
        "seconds": outcome.seconds,
        "findings": [{"parameter": f.parameter, "status": f.status, "detail": f.detail} for f in outcome.findings],
        "notes": list(outcome.notes),
        "residuals": {k: {kk: (num(vv) if isinstance(vv, (int, float, np.floating)) and not isinstance(vv, bool) else vv)
                          for kk, vv in v.items()} for k, v in outcome.residuals.items()},
        "estimates": {k: {"value": num(e.value), "sigma": num(e.sigma), "unit": e.unit, "note": e.note}
                      for k, e in outcome.estimates.items()},
    }


def write_json(outcome, path) -> None:
    try:
        Path(path).write_text(json.dumps(summary(outcome), indent=1), encoding="utf-8")
    except OSError as e:
        raise FitError(f"cannot write {path}: {e.strerror}") from None


# --- HTML -------------------------------------------------------------------------------------------------------

def write_report(outcome, path, title: str, sources, command: str | None = None) -> None:
    esc = html.escape
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{esc(title)}</h1>",
             f"<p>twin fit {outcome.kind}, twin {__version__}, {_dt.datetime.now().isoformat(timespec='seconds')}; "
             f"fit took {outcome.seconds:.1f} s. Data: {esc(', '.join(sources))}.</p>"]
    if command:
        parts.append(f"<pre>{esc(command)}</pre>")
    parts.append("<h2>What the data identified</h2><table><tr><th>parameter</th><th>status</th><th>detail</th></tr>")
    for f in outcome.findings:
        parts.append(f"<tr class='{f.status.replace(' ', '-')}'><td>{esc(f.parameter)}</td><td>{esc(f.status)}</td><td>{esc(f.detail)}</td></tr>")
    parts.append("</table>")
    if outcome.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in outcome.notes) + "</ul>")
    parts.append("<h2>Residuals (model minus measured)</h2><table><tr><th>record</th><th>how</th><th>RMSE [mV]</th>"
                 "<th>max [mV]</th><th>initial SOC</th></tr>")
    for name, r in outcome.residuals.items():
        soc = r.get("initial_soc")
        extra = f" (absolute: {r['absolute_rmse_mv']:.1f} / {r['absolute_max_mv']:.1f})" if "absolute_rmse_mv" in r else ""
        if r.get("rmse_mv_by_soc"):
            extra += " (" + ", ".join(f"{esc(k)}: {v:.1f}" for k, v in r["rmse_mv_by_soc"].items()) + ")"
        parts.append(f"<tr><td>{esc(name)}</td><td>{esc(r['role'])}</td><td>{r['rmse_mv']:.2f}{extra}</td>"
                     f"<td>{r['max_mv']:.1f}</td><td>{'' if soc is None else f'{soc:.3f}'}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>Estimates</h2><p>Standard uncertainties from the final Jacobian, with the residual variance "
                 "inflated for serial correlation; model mismatch is not in them, so read them as lower bounds.</p>"
                 "<table><tr><th>quantity</th><th>value</th><th>&plusmn;</th><th>unit</th><th>note</th></tr>")
    for name, e in outcome.estimates.items():
        sig = "" if not math.isfinite(e.sigma) else f"{e.sigma:.3g}"
        parts.append(f"<tr><td>{esc(name)}</td><td>{e.value:.5g}</td><td>{sig}</td><td>{esc(e.unit)}</td><td>{esc(e.note)}</td></tr>")
    parts.append("</table><h2>Plots</h2>")
    for name, tr in outcome.traces.items():
        t = np.asarray(tr["time"], float) / 3600.0
        meas, fit = np.asarray(tr["measured"], float), np.asarray(tr["fitted"], float)
        parts.append(svg_chart([("measured", t, meas), ("twin", t, fit)], f"{name}: cell voltage", "time [h]", "V"))
        parts.append(svg_chart([("twin - measured", t[1:], 1000 * (fit - meas)[1:])], f"{name}: residual", "time [h]", "mV"))
    for name, (x, y) in outcome.tables.items():
        dots = "from" in name
        parts.append(svg_chart([(name, np.asarray(x, float), np.asarray(y, float))], name, "SOC", "", dots=dots))
    parts.append("</body></html>")
    try:
        Path(path).write_text("\n".join(parts), encoding="utf-8")
    except OSError as e:
        raise FitError(f"cannot write {path}: {e.strerror}") from None


def _ticks(lo: float, hi: float, count: int = 5) -> list:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), default=raw)
    first = math.ceil(lo / step) * step
    return [first + k * step for k in range(int((hi - first) / step + 1e-9) + 1)]


def _thin(x, y):
    if len(x) <= MAX_POINTS:
        return x, y
    k = int(math.ceil(len(x) / MAX_POINTS))
    # keep each bin's extremes so spikes stay visible
    n = len(x) // k * k
    xs, ys = x[:n].reshape(-1, k), y[:n].reshape(-1, k)
    lo, hi = ys.argmin(axis=1), ys.argmax(axis=1)
    rows = np.arange(len(xs))
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    xx = np.c_[xs[rows, first], xs[rows, second]].ravel()
    yy = np.c_[ys[rows, first], ys[rows, second]].ravel()
    return xx, yy


def svg_chart(series, title: str, xlabel: str, ylabel: str, width: int = 760, height: int = 240, dots: bool = False) -> str:
    """A line (or dot) chart as inline SVG."""
    left, right, top, bottom = 64, 12, 24, 36
    finite = [(np.asarray(x, float), np.asarray(y, float)) for _, x, y in series]
    xs = np.concatenate([x[np.isfinite(y)] for x, y in finite]) if finite else np.zeros(1)
    ys = np.concatenate([y[np.isfinite(y)] for _, y in finite]) if finite else np.zeros(1)
    if xs.size == 0:
        return ""
    x0, x1 = float(xs.min()), float(xs.max())
    y0, y1 = float(np.percentile(ys, 0.1)), float(np.percentile(ys, 99.9))
    if x1 <= x0:
        x1 = x0 + 1.0
    if y1 <= y0:
        y0, y1 = y0 - 1.0, y1 + 1.0
    pad = 0.05 * (y1 - y0)
    y0, y1 = y0 - pad, y1 + pad
    w, h = width - left - right, height - top - bottom

    def px(x):
        return left + (x - x0) / (x1 - x0) * w

    def py(y):
        return top + (1 - (np.clip(y, y0, y1) - y0) / (y1 - y0)) * h

    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-size='11' font-family='sans-serif'>",
           f"<text x='{left}' y='14' font-weight='bold'>{html.escape(title)}</text>",
           f"<rect x='{left}' y='{top}' width='{w}' height='{h}' fill='none' stroke='#999'/>"]
    for t in _ticks(x0, x1):
        out.append(f"<line x1='{px(t):.1f}' x2='{px(t):.1f}' y1='{top + h}' y2='{top + h + 4}' stroke='#999'/>"
                   f"<text x='{px(t):.1f}' y='{top + h + 15}' text-anchor='middle'>{t:g}</text>")
    for t in _ticks(y0, y1):
        out.append(f"<line x1='{left - 4}' x2='{left + w}' y1='{py(t):.1f}' y2='{py(t):.1f}' stroke='#eee'/>"
                   f"<text x='{left - 6}' y='{py(t) + 4:.1f}' text-anchor='end'>{t:.4g}</text>")
    out.append(f"<text x='{left + w / 2}' y='{height - 4}' text-anchor='middle'>{html.escape(xlabel)}</text>")
    out.append(f"<text x='12' y='{top + h / 2}' transform='rotate(-90 12 {top + h / 2})' text-anchor='middle'>{html.escape(ylabel)}</text>")
    for k, (label, x, y) in enumerate(series):
        color = COLORS[k % len(COLORS)]
        x, y = np.asarray(x, float), np.asarray(y, float)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = _thin(x[ok], y[ok])
        if dots:
            out += [f"<circle cx='{px(a):.1f}' cy='{py(b):.1f}' r='2.5' fill='{color}'/>" for a, b in zip(x, y)]
        else:
            pts = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y))
            out.append(f"<polyline points='{pts}' fill='none' stroke='{color}' stroke-width='1.2'/>")
        out.append(f"<text x='{left + w - 8}' y='{top + 14 + 13 * k}' text-anchor='end' fill='{color}'>{html.escape(label)}</text>")
    out.append("</svg>")
    return "".join(out)


_CSS = """body{font-family:sans-serif;max-width:900px;margin:1em auto;color:#222}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}tr.not-identified td{background:#fde8e0}
tr.weak td,tr.assumed td{background:#fff6d8}pre{background:#f4f4f4;padding:6px;white-space:pre-wrap}svg{display:block;margin:.5em 0}"""

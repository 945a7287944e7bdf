"""What ``twin validate`` writes: JUnit XML for a firmware team's CI, JSON, and an HTML report.

JUnit: one <testsuite> per scenario, one <testcase> per check (classname twin.validate.<scenario>,
name the check's title); a failing check is a <failure> whose message is the finding, a check that
could not be measured is <skipped>. With a baseline, a last <testsuite> holds the regressions.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from .report import CSS, line_chart

STATUS_CLASS = {"pass": "ok", "fail": "flagged", "skip": "note"}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "scenario"


def write_junit(validation, path) -> None:
    """JUnit XML (the schema Jenkins, GitLab and GitHub test reporters read)."""
    counts = validation.counts()
    root = ET.Element("testsuites", name=f"twin validate {validation.firmware}",
                      tests=str(counts["pass"] + counts["fail"] + counts["skip"] + counts["regressions"]),
                      failures=str(counts["fail"] + counts["regressions"]), skipped=str(counts["skip"]),
                      errors="0", time=f"{sum(r.wall_s for r in validation.runs):.3f}")
    for run in validation.runs:
        fails = sum(c.status == "fail" for c in run.results)
        skips = sum(c.status == "skip" for c in run.results)
        suite = ET.SubElement(root, "testsuite", name=run.scenario, tests=str(len(run.results)), failures=str(fails),
                              skipped=str(skips), errors="0", time=f"{run.wall_s:.3f}")
        props = ET.SubElement(suite, "properties")
        for name, value in (("firmware", run.firmware), ("firmware_name", run.firmware_name),
                            ("control_period_s", f"{run.period:g}"), ("description", run.description),
                            ("limits", validation.limits)):
            ET.SubElement(props, "property", name=name, value=str(value))
        for c in run.results:
            case = ET.SubElement(suite, "testcase", classname=f"twin.validate.{_slug(run.scenario)}", name=c.title,
                                 time="0")
            if c.status == "fail":
                failure = ET.SubElement(case, "failure", message=c.message, type=c.id)
                failure.text = f"{run.scenario}: {c.title}\n{c.message}\n(firmware {run.firmware})"
            elif c.status == "skip":
                ET.SubElement(case, "skipped", message=c.message)
            else:
                ET.SubElement(case, "system-out").text = c.message
    if validation.baseline is not None:
        suite = ET.SubElement(root, "testsuite", name=f"regressions against {validation.baseline}",
                              tests=str(max(1, len(validation.regressions))), failures=str(len(validation.regressions)),
                              skipped="0", errors="0", time="0")
        for reg in validation.regressions:
            case = ET.SubElement(suite, "testcase", classname=f"twin.validate.regressions.{_slug(reg.scenario)}",
                                 name=f"{reg.scenario}: {reg.what}", time="0")
            ET.SubElement(case, "failure", message=reg.text, type="regression").text = reg.text
        if not validation.regressions:
            ET.SubElement(suite, "testcase", classname="twin.validate.regressions", name="no regression", time="0")
    ET.indent(root)
    Path(path).write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def write_json(validation, path) -> None:
    Path(path).write_text(json.dumps(validation.to_dict(), indent=1, default=_jsonable), encoding="utf-8")


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON: {type(x).__name__}")


# --- HTML ---------------------------------------------------------------------------------------------

def _checks_table(run, baseline_run=None) -> str:
    base = {c.id: c for c in baseline_run.results} if baseline_run is not None else {}
    head = "<tr><th>status</th><th>check</th><th>finding</th>" + ("<th>baseline</th>" if baseline_run else "") + "</tr>"
    rows = [f"<table>{head}"]
    for c in run.results:
        cell = ""
        if baseline_run is not None:
            b = base.get(c.id)
            cell = (f'<td class="{STATUS_CLASS[b.status]}">{b.status}: {html.escape(b.message)}</td>' if b
                    else "<td>-</td>")
        rows.append(f'<tr><td class="{STATUS_CLASS[c.status]}">{c.status}</td><td>{html.escape(c.title)}</td>'
                    f"<td>{html.escape(c.message)}</td>{cell}</tr>")
    rows.append("</table>")
    return "".join(rows)


def _markers(run) -> list:
    return [(c.time / 3600.0, c.id.split(".")[-1]) for c in run.results if c.status == "fail" and c.time is not None]


def _charts(run, baseline_run=None) -> str:
    p = run.plot or {}
    t = np.asarray(p.get("time", []), dtype=float) / 3600.0
    if t.size < 2:
        return '<p class="note">No time series: the run ended before its first step.</p>'
    marks = _markers(run)
    out = []
    cells = p.get("cells", {})
    ct = np.asarray(cells.get("time", []), dtype=float) / 3600.0
    v = np.asarray(cells.get("cell_voltage", []), dtype=float)
    if ct.size > 1 and v.ndim == 2 and v.shape[0] == ct.size:
        labels = [f"cell {i}" for i in range(v.shape[1])]
        out.append(line_chart(ct, [v[:, i] for i in range(v.shape[1])], labels, title="Cell voltages (true) [V]",
                              xlabel="time [h]", ylabel="V", markers=marks))
    out.append(line_chart(t, [p["read_vmax"], p["read_vmin"]], ["highest reading", "lowest reading"],
                          title="Highest and lowest cell readings, as the firmware saw them [V]", xlabel="time [h]",
                          ylabel="V", markers=marks))
    out.append(line_chart(t, [p["request"], p["current"], p["ccl"], -np.asarray(p["dcl"])],
                          ["asked by charger and load", "flowing", "CCL", "-DCL"],
                          title="Pack current: asked, flowing, and the firmware's CCL / -DCL [A]", xlabel="time [h]",
                          ylabel="A", markers=marks))
    out.append(line_chart(t, [p["charge_enable"], np.asarray(p["discharge_enable"]) - 1.1, np.asarray(p["commanded"]) / 10.0],
                          ["charge enable", "discharge enable (-1.1)", "cells balancing / 10"],
                          title="Firmware decisions: charge enable, discharge enable (offset), cells balancing",
                          xlabel="time [h]", ylabel="", markers=marks))
    out.append(line_chart(t, [p["tmax"], p["ambient_cell"], p["ambient"]],
                          ["hottest cell", "a cell with no heat of its own", "ambient"],
                          title="Temperatures [degC]", xlabel="time [h]", ylabel="degC", markers=marks))
    energy = [p["energy"]]
    labels = ["this firmware"]
    if baseline_run is not None and baseline_run.plot and len(baseline_run.plot.get("time", [])) > 1:
        bt = np.asarray(baseline_run.plot["time"], dtype=float) / 3600.0
        energy.append(np.interp(t, bt, baseline_run.plot["energy"], right=np.nan))
        labels.append("baseline")
    out.append(line_chart(t, energy, labels, title="Energy burned by balancing [Wh]", xlabel="time [h]", ylabel="Wh"))
    tops = p.get("tops", [])
    if tops:
        days = [d + 1 for d, *_ in tops]
        ys, labels = [[s * 1e3 for *_, s, _c in tops]], ["this firmware"]
        btops = (baseline_run.plot or {}).get("tops", []) if baseline_run is not None else []
        if btops:
            bmap = {d + 1: s * 1e3 for d, _v, _t, s, _c in btops}
            ys.append([bmap.get(d, np.nan) for d in days])
            labels.append("baseline")
        if len(days) > 1:
            out.append(line_chart(days, ys, labels, title="Top-of-charge spread per day [mV]", xlabel="day", ylabel="mV"))
    return "\n".join(out)


def write_html(validation, path) -> None:
    runs = validation.runs
    base = {r.scenario: r for r in validation.baseline_runs}
    counts = validation.counts()
    verdict = "PASS" if validation.passed else "FAIL"
    body = [f"<h1>twin validate: {html.escape(validation.firmware)} - "
            f'<span class="{"ok" if validation.passed else "flagged"}">{verdict}</span></h1>',
            f'<p class="note">Limits: {html.escape(validation.limits)}; scenarios: {html.escape(validation.scenarios)}'
            + (f"; baseline: {html.escape(validation.baseline)}" if validation.baseline else "")
            + f". {counts['pass']} checks passed, {counts['fail']} failed, {counts['skip']} not measured"
            + (f", {counts['regressions']} regressions" if validation.baseline else "") + ".</p>"]
    body.append("<table><tr><th>scenario</th><th>status</th><th>failed checks</th>"
                + ("<th>baseline</th>" if validation.baseline else "") + "<th>run</th></tr>")
    for r in runs:
        failed = "; ".join(c.title for c in r.results if c.status == "fail") or "-"
        b = base.get(r.scenario)
        bcell = f'<td class="{STATUS_CLASS[b.status]}">{b.status}</td>' if b else ""
        body.append(f'<tr><td><a href="#{_slug(r.scenario)}">{html.escape(r.scenario)}</a></td>'
                    f'<td class="{STATUS_CLASS[r.status]}">{r.status}</td><td>{html.escape(failed)}</td>{bcell}'
                    f"<td>{r.steps} steps in {r.wall_s:.1f} s</td></tr>")
    body.append("</table>")
    if validation.baseline is not None:
        body.append("<h2>Regressions against the baseline</h2>")
        if validation.regressions:
            body.append("<table><tr><th>scenario</th><th>what</th><th>finding</th></tr>")
            for reg in validation.regressions:
                body.append(f'<tr><td>{html.escape(reg.scenario)}</td><td class="flagged">{html.escape(str(reg.what))}'
                            f"</td><td>{html.escape(reg.text)}</td></tr>")
            body.append("</table>")
        else:
            body.append('<p class="ok">No regression: every check and figure is at least as good as the baseline\'s.</p>')
    for r in runs:
        b = base.get(r.scenario)
        body.append(f'<h2 id="{_slug(r.scenario)}">{html.escape(r.scenario)}</h2>')
        body.append(f'<p class="note">{html.escape(r.description)} Firmware {html.escape(r.firmware_name)}, control '
                    f"period {r.period:g} s. Dashed lines mark where a check first failed.</p>")
        body.append(_checks_table(r, b))
        body.append(_charts(r, b))
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>twin validate</title><style>{CSS}</style>"
            f"</head><body>{''.join(body)}</body></html>")
    Path(path).write_text(page, encoding="utf-8")


__all__ = ["write_junit", "write_json", "write_html"]

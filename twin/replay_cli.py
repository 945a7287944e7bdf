"""`twin replay`: run recorded BMS logs through the divergence detector."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

EXIT_FLAGGED = 1


def example_log() -> Path:
    """The log bundled with the package (a 16S pack simulated by the twin with two injected faults)."""
    from importlib import resources

    return Path(str(resources.files("twin").joinpath("data", "example-pack.h5")))


@click.command()
@click.argument("logs", nargs=-1)
@click.option("--mapping", "-m", type=click.Path(exists=True, dir_okay=False),
              help="TOML mapping for logs not in the canonical layout (docs/log-format.md).")
@click.option("--params", "-p", default=None, metavar="NAME|FILE",
              help="Parameter set of the logged cells [default: the built-in LFP set scaled to the log's capacity].")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True), help="Write flags and figures as JSON.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Write an HTML page with per-cell plots and the flags.")
@click.option("--workers", type=click.IntRange(1), default=None, help="Worker processes for many logs [default: all cores].")
@click.option("--scheduler", metavar="ADDRESS", help="Run many logs on a Dask cluster, e.g. tcp://10.0.0.5:8786.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
def replay(logs, mapping, params, json_path, report_path, workers, scheduler, quiet):
    """Replay BMS logs through the twin and flag, per cell, what diverges.

    LOGS are HDF5 files, directories of them, or globs; many logs run in parallel (a fleet).
    Without LOGS, the bundled example log (a 16S LFP pack, three days, two faults from hour 28) is
    replayed and its report written to twin-replay-example.html. Exit status: 0 nothing flagged,
    1 something flagged, 2 bad input.

    \b
    Example:
      twin replay
      twin replay pack_101.h5 --mapping examples/mappings/dev-pack.toml --report report.html
      twin replay logs/ --mapping my-bms.toml --json fleet.json --workers 8
    """
    from .replay import find_logs, replay as replay_one, replay_fleet
    from .report import write_replay_report

    paths = find_logs(logs) if logs else [example_log()]
    if not logs and report_path is None:  # the demonstration: show the plots too
        report_path = "twin-replay-example.html"
    if len(paths) == 1:
        bar, update = _progress(not quiet, f"replaying {paths[0].name}")
        try:
            result = replay_one(paths[0], mapping, params, progress=update)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        if json_path:
            Path(json_path).write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
        if report_path:
            write_replay_report([result], report_path)
        if not quiet:
            click.echo(_summary(result, report_path))
        sys.exit(EXIT_FLAGGED if result.flags else 0)
    bar, update = _progress(not quiet, f"replaying {len(paths)} logs")
    try:
        rows = replay_fleet(paths, mapping, params, workers=workers, scheduler=scheduler, progress=update)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if json_path:
        Path(json_path).write_text(json.dumps({"logs": rows}, indent=2), encoding="utf-8")
    if report_path:
        from .replay import replay as again

        write_replay_report([again(p, mapping, params) for p, r in zip(paths, rows) if r["status"] != "error"], report_path)
    if not quiet:
        click.echo(_fleet_summary(rows, report_path))
    if any(r["status"] == "error" for r in rows):
        sys.exit(2)
    sys.exit(EXIT_FLAGGED if any(r["flags"] for r in rows) else 0)


def _progress(enabled, label):
    if not enabled or not sys.stderr.isatty():
        return None, None
    bar = click.progressbar(length=1000, label=label, file=sys.stderr)
    bar.__enter__()

    def update(done, total):
        bar.update(int(1000 * done / max(total, 1)) - bar.pos)

    return bar, update


def _describe(f) -> str:
    m = f.magnitude
    if f.kind == "self_discharge":
        if m.get("leak_ma_is_lower_bound"):
            return f"leak >= {m['leak_ma']:.1f} mA ({m['charge_lost_mah']:.0f} mAh lost)"
        return f"leak {m['leak_ma']:.1f} +- {m['leak_ma_sigma']:.1f} mA"
    if f.kind == "resistance":
        return f"+{m['added_mohm']:.2f} +- {m['added_mohm_sigma']:.2f} mOhm"
    if f.kind == "voltage_sensor":
        return f"reading offset {m['offset_mv']:+.1f} mV"
    if f.kind == "balancer":
        return f"{m['state'].replace('_', ' ')} ({m['bleed_error_ma']:+.0f} mA)"
    if f.kind == "capacity":
        return f"capacity {m['change_percent']:+.1f} %"
    return f"temperature {m['departure_k']:+.1f} K from its peers"


def _summary(r, report_path) -> str:
    hours = (r.end_s - r.start_s) / 3600
    lines = [f"twin replay: {Path(r.path).name}: {r.cells} cells, {hours:.1f} h, {r.samples} samples "
             f"({r.samples_per_second:.3g} samples/s)"]
    for g in r.gaps:
        lines.append(f"  gap from {g.start_s / 3600:.2f} h to {g.end_s / 3600:.2f} h: re-synchronized after it")
    if not r.flags:
        lines.append("  no cell diverges from its peers")
    for f in r.flags:
        lines.append(f"  cell {f.cell:3d}  {f.kind:15s} from {f.first_flagged_s / 3600:7.2f} h  {_describe(f)}")
    if report_path:
        lines.append(f"  report: {report_path}")
    return "\n".join(lines)


def _fleet_summary(rows, report_path) -> str:
    lines = [f"twin replay: {len(rows)} logs", f"  {'log':30s} {'status':8s} flags"]
    for r in rows:
        name = Path(r["log"]).name
        if r["status"] == "error":
            lines.append(f"  {name:30s} {'error':8s} {r['error']}")
            continue
        flags = "; ".join(f"cell {f['cell']} {f['kind']} @ {f['first_flagged_s'] / 3600:.1f} h" for f in r["flags"]) or "-"
        lines.append(f"  {name:30s} {r['status']:8s} {flags}")
    if report_path:
        lines.append(f"  report: {report_path}")
    return "\n".join(lines)

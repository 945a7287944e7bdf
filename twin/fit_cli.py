"""``twin fit``: calibrate the twin from data (a thin skin over twin.fit_cell and twin.fit_pack).

Registered on the main group by twin/cli.py. Expected failures are FitError (or another TwinError):
one line, exit status 2.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click


def _soc_option(values) -> dict:
    out = {}
    for text in values:
        name, sep, soc = text.rpartition("=")
        try:
            value = float(soc)
        except ValueError:
            value = None
        if not sep or value is None or not 0.0 <= value <= 1.0:
            raise click.BadParameter(f"{text!r}: write FILE=SOC with SOC between 0 and 1, e.g. ocv.h5=0.99",
                                     param_hint="--initial-soc")
        out[name] = value
    return out


def _stated(path: str, socs: dict):
    p = Path(path)
    for key in (str(path), p.name, p.stem):
        if key in socs:
            return socs[key]
    return None


def _read(paths, mapping, socs, cell=None):
    from .fit_data import read_record

    out = []
    for path in paths:
        rec = read_record(path, mapping, _stated(path, socs))
        if cell is not None or rec.cells > 1:
            rec = rec.cell(cell or 0) if cell is not None else rec
        out.append(rec)
    names = [r.name for r in out]
    if len(set(names)) != len(names):
        from .errors import FitError

        raise FitError(f"two data files share the name {sorted(n for n in names if names.count(n) > 1)[0]!r}; rename one")
    return out


def _command() -> str:
    """The command line that reproduces this run, rebuilt from the parsed parameters."""
    ctx = click.get_current_context()
    parts = ["twin", "fit", ctx.command.name]
    for param in ctx.command.params:
        if param.name in ("report", "json_path"):  # where the report goes does not change the parameters
            continue
        value = ctx.params.get(param.name)
        if value in (None, (), False) or (isinstance(param, click.Option) and value == param.default
                                          and param.name != "output"):
            continue
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if isinstance(param, click.Argument):
            parts += [str(v) for v in values]
        elif param.nargs > 1:
            parts += [param.opts[0]] + [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
        else:
            for v in values:
                parts += [param.opts[0], str(v)]
    return " ".join(shlex.quote(p) for p in parts)


def _outputs(outcome, output, report, json_path, title, sources):
    from .fit_report import write_fit_parameters, write_json, write_report

    command = _command()
    write_fit_parameters(outcome, output, title, sources, command)
    report = report or str(Path(output).with_suffix(".report.html"))
    write_report(outcome, report, title, sources, command)
    if json_path:
        write_json(outcome, json_path)
    return report


def _echo_summary(outcome, output, report):
    click.echo(f"twin fit {outcome.kind}: {outcome.seconds:.1f} s")
    for f in outcome.findings:
        click.echo(f"  {f.parameter:26s} {f.status}")
    for name, r in outcome.residuals.items():
        click.echo(f"  {name:26s} {r['rmse_mv']:7.2f} mV RMSE, max {r['max_mv']:6.1f} mV  ({r['role']})")
    for n in outcome.notes:
        if "stands out" in n:
            click.echo(f"  {n}")
    click.echo(f"  parameters written to {output}")
    click.echo(f"  report written to     {report}")


mapping_option = click.option("--mapping", "-m", type=click.Path(exists=True, dir_okay=False), default=None,
                              help="Log mapping (HDF5 in another layout) or column mapping (CSV); see docs/fitting.md.")
report_option = click.option("--report", type=click.Path(dir_okay=False, writable=True), default=None,
                             help="HTML report [default: OUTPUT with .report.html].")
json_option = click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True), default=None,
                           help="Also write the fit summary (findings, residuals, estimates) as JSON.")


@click.group()
def fit():
    """Calibrate the twin from data: a cell from lab tests, a pack's cells from its log.

    \b
    Example:
      twin fit cell ocv.h5 hppc.h5 --initial-soc ocv.h5=0.99 -o mycell.toml
      twin fit pack pack.h5 --mapping examples/mappings/dev-pack.toml --params mycell.toml -o mypack.toml
    """


@fit.command("cell")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Parameter file to write (TOML, or JSON by suffix).")
@mapping_option
@click.option("--initial-soc", "socs", multiple=True, metavar="FILE=SOC",
              help="SOC (0..1) at the start of a file, as the test protocol says; repeat per file.")
@click.option("--capacity", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Nominal capacity in Ah when no capacity test is in the data [default: the file's].")
@click.option("--cell", type=click.IntRange(0), default=None, help="Which cell of a multi-cell file (0-based).")
@click.option("--base", "-p", default=None, metavar="NAME|FILE",
              help="Parameter set for everything the tests do not identify (pack, BMS) [default: eve_lf280k_16s].")
@click.option("--cells", type=click.IntRange(1, 65535), default=None, help="Cells in series in the written set.")
@click.option("--rc-pairs", type=click.IntRange(1, 3), default=2, show_default=True, help="RC pairs of the model.")
@click.option("--voltage-limits", nargs=2, type=float, default=(2.5, 3.65), show_default=True, metavar="LOW HIGH",
              help="Cut-off voltages, to recognize a capacity test (a discharge from HIGH to LOW).")
@click.option("--validate", "validation", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A file to predict with the result, not fitted (e.g. a drive cycle); repeat for more.")
@click.option("--title", default="Fitted LFP cell", show_default=True, help="First line of the file header.")
@report_option
@json_option
def fit_cell_command(files, output, mapping, socs, capacity, cell, base, cells, rc_pairs, voltage_limits, validation,
                     title, report, json_path):
    """Cell parameters from lab tests.

    Identifies the OCV branches, hysteresis, R0 and RC tables over SOC (and temperature, when the
    tests were run at several) and capacity. Give a low-rate (<= C/10) charge and discharge for the OCV branches and pulse (HPPC) tests for R0
    and the RC pairs, in HDF5 (the log layout, or any layout with --mapping) or CSV (with a column
    mapping). Current positive = charging. The report says what the data could not identify and
    which test would.

    \b
    Example:
      twin fit cell ocv.h5 hppc.h5 --initial-soc ocv.h5=0.99 --initial-soc hppc.h5=0.98 \\
          --validate drive.h5 --initial-soc drive.h5=0.9 -o a123.toml
      twin fit cell test.csv --mapping cycler-columns.toml --capacity 280 -o cell.toml
    """
    from . import parameter_sets
    from .fit_model import require_scipy
    from .params import ParameterSet

    require_scipy()
    from .fit_cell import fit_cell

    soc_map = _soc_option(socs)
    records = _read(files, mapping, soc_map, cell)
    checks = _read(validation, mapping, soc_map, cell)
    pset = ParameterSet.load(base or parameter_sets.DEFAULT)
    outcome = fit_cell(records, pset, capacity_ah=capacity, rc_pairs=rc_pairs, voltage_limits=tuple(voltage_limits),
                       validation=checks)
    if cells is not None:
        from .fit_model import resized

        outcome.params = resized(outcome.params, cells)
    report_path = _outputs(outcome, output, report, json_path, title, [Path(f).name for f in files])
    _echo_summary(outcome, output, report_path)


@fit.command("pack")
@click.argument("log", type=click.Path(exists=True, dir_okay=False))
@click.option("--params", "-p", "params", required=True, metavar="NAME|FILE",
              help="The cell model: a fitted parameter file or a named set (see 'twin params list').")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Parameter file to write, with one value per cell.")
@mapping_option
@click.option("--title", default="Pack with per-cell parameters", show_default=True, help="First line of the file header.")
@report_option
@json_option
def fit_pack_command(log, params, output, mapping, title, report, json_path):
    """Per-cell parameters from a pack's log.

    Identifies each cell's capacity, R0, initial SOC and self-discharge relative to its peers. Reads a
    pack log (HDF5 in the log layout, or through --mapping; CSV with a column mapping) and
    replays its current, and its balancing, through every cell of the given cell model.

    \b
    Example:
      twin fit pack ../shared/data/dev-packs/pack_101.h5 --mapping examples/mappings/dev-pack.toml \\
          --params a123_2p3ah_16s -o pack_101.toml
    """
    from .fit_model import require_scipy
    from .params import ParameterSet

    require_scipy()
    from .fit_pack import fit_pack

    record = _read([log], mapping, {})[0]
    outcome = fit_pack(record, ParameterSet.load(params))
    report_path = _outputs(outcome, output, report, json_path, title, [Path(log).name])
    _echo_summary(outcome, output, report_path)

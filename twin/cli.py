"""The ``twin`` command: a thin skin over the library.

Expected failures (bad files, parameters, steps) print one line saying what and how to fix it and
exit with status 2; a traceback means a bug.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__

DEFAULT_STEPS = (
    "Charge at 0.5C until 3.55 V",
    "Hold at 3.55 V until C/20",
    "Rest for 2 hours",
    "Discharge at 0.5C until 2.8 V",
    "Rest for 2 hours",
)


class TwinGroup(click.Group):
    """Turns TwinError into one clean message and exit status 2."""

    def invoke(self, ctx):
        from .errors import TwinError

        try:
            return super().invoke(ctx)
        except TwinError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)


@click.group(cls=TwinGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="twin")
def main():
    """Digital twin of LiFePO4 packs and their BMS balancers.

    \b
    Example:
      twin simulate -o run.h5        simulate the default 16S EVE LF280K pack
      twin params show               the default parameter set, with units
    """


# --- shared options ---------------------------------------------------------------------------------

def params_option(f):
    return click.option(
        "--params", "-p", default=None, metavar="NAME|FILE",
        help="Parameter set: a name (see 'twin params list') or a TOML/JSON file. Default: eve_lf280k_16s.",
    )(f)


def _progress(enabled: bool, label: str):
    """A click progress bar on stderr (quiet when stderr is not a terminal)."""
    if not enabled or not sys.stderr.isatty():
        return None, None
    bar = click.progressbar(length=1000, label=label, file=sys.stderr)
    bar.__enter__()

    def update(done_s, total_s):
        if total_s:
            bar.update(int(1000 * min(done_s / total_s, 1.0)) - bar.pos)

    return bar, update


def _parse_fault(text: str):
    from .errors import ParameterError
    from .faults import Fault

    try:
        head, _, onset = text.partition("@")
        cell, kind, value = head.split(":")
        try:
            value = float(value)
        except ValueError:
            pass
        return Fault(int(cell), kind, value, onset or 0.0)
    except ValueError:
        raise ParameterError(f"--fault {text!r}: write CELL:KIND:VALUE[@ONSET], e.g. 3:leak_current:0.005@2h") from None


# --- simulate ---------------------------------------------------------------------------------------

@main.command()
@params_option
@click.option("--cells", type=click.IntRange(1, 65535), default=None, help="Cells in series (overrides the parameter set).")
@click.option("--step", "steps", multiple=True, metavar="SENTENCE", help="An experiment step; repeat for more (see below).")
@click.option("--experiment", type=click.Path(exists=True, dir_okay=False), help="TOML file with steps = [...] and repeat = N.")
@click.option("--repeat", type=click.IntRange(1), default=1, show_default=True, help="Repeat the steps this many times.")
@click.option("--profile", type=click.Path(exists=True, dir_okay=False), help="Current profile (CSV or HDF5) instead of steps.")
@click.option("--dt", type=click.FloatRange(min=0, min_open=True), default=None, help="Time step in s [default: 1, or the profile's].")
@click.option("--ambient", type=float, default=None, help="Ambient temperature in degC [default: 25].")
@click.option("--fault", "faults", multiple=True, metavar="CELL:KIND:VALUE[@ONSET]", help="Inject a fault, e.g. 3:leak_current:0.005@2h.")
@click.option("--record", "records", multiple=True, metavar="ID", help="Record only these variables (default: all).")
@click.option("--every", type=click.IntRange(1), default=1, show_default=True, help="Keep every k-th sample.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default="twin-simulation.h5", show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True), help="Also write the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
def simulate(params, cells, steps, experiment, repeat, profile, dt, ambient, faults, records, every, output, json_path, quiet):
    """Simulate a pack and write everything the twin computes to HDF5.

    \b
    Steps read like a lab protocol:
      "Charge at 0.5C until 3.55 V"     "Discharge at 140 A for 30 minutes"
      "Hold at 3.55 V until C/20"       "Discharge at 3 kW until 2.8 V"
      "Rest for 2 hours"                "Rest for 1 day or until balanced"
    Without steps or a profile, a full cycle of the default pack is run.

    \b
    Example:
      twin simulate --step "Charge at 0.5C until 3.55 V" --step "Rest for 1 hour" -o charge.h5
      twin simulate --fault 3:leak_current:0.005@1h --repeat 3 -o leak.h5
    """
    from .experiment import Experiment
    from .hdf5io import Hdf5Sink, write_summary
    from .pack import Pack
    from .params import ParameterSet
    from .profiles import read_profile
    from .errors import ExperimentError
    from . import parameter_sets

    if profile and (steps or experiment):
        raise ExperimentError("give either --profile or steps (--step/--experiment), not both")
    pset = ParameterSet.load(params or parameter_sets.DEFAULT)
    if cells is not None:
        pset = pset.updated({"pack.cells_in_series": cells})
    fault_list = list(pset.faults) + [_parse_fault(f) for f in faults]
    pack = Pack(pset, faults=fault_list)
    if profile:
        what, file_dt = read_profile(profile)
        if dt is not None and file_dt is not None and abs(dt - file_dt) > 1e-9 * file_dt:
            raise ExperimentError(f"--dt {dt} s disagrees with the profile's time step {file_dt} s")
        dt = dt or file_dt or 1.0
        if ambient is not None:
            pack.set("pack.ambient_temperature", ambient)
    else:
        exp = Experiment.from_file(experiment) if experiment else Experiment(list(steps) or list(DEFAULT_STEPS))
        what = Experiment(exp.steps, exp.repeat * repeat)
        dt = dt or 1.0
    bar, update = _progress(not quiet, "simulating")
    sink = Hdf5Sink(output)
    try:
        result_sink_records = list(records) or None
        pack.run(what, dt, ambient=ambient if not profile else None, record=result_sink_records, every=every, sink=sink,
                 progress=update)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    summary = _summary_from_file(output, pack)
    write_summary(output, summary)
    if json_path:
        Path(json_path).write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    if not quiet:
        click.echo(_format_summary(summary, output))


def _summary_from_file(path, pack) -> dict:
    """Summary figures computed from the written file, a few datasets at a time."""
    import h5py
    import numpy as np

    from .results import PROTECTIONS, Result
    from .spec import load_spec

    spec = load_spec()
    wanted = ["pack.soc_spread", "pack.cell_voltage_spread", "cell.voltage", "cell.temperature", "balancer.energy_dissipated",
              "balancer.charge_moved", "balancer.bleed_charge", "pack.voltage", "pack.applied_current"]
    wanted += [f"protection.{n}_tripped" for n in PROTECTIONS]
    data = {}
    with h5py.File(path, "r") as f:
        time = f["time"][:]
        steps = json.loads(f.attrs.get("steps", "[]"))
        for i in wanted:
            if spec[i].hdf5_path in f:
                data[i] = f[spec[i].hdf5_path][:]
    return Result(time, data, np.zeros(len(time), int), steps, pack.params, pack.n).summary()


def _format_summary(s: dict, output) -> str:
    lines = [f"twin simulate: {s['cells_in_series']} cells, {s['duration_s'] / 3600:.2f} h simulated"]
    for st in s.get("steps", []):
        lines.append(f"  {st['step']:<40s} {(st['end_s'] - st['start_s']) / 60:8.1f} min  ended by {st['reason']}")
    if "max_cell_voltage_v" in s:
        lines.append(f"  cell voltage        {s['min_cell_voltage_v']:.3f} .. {s['max_cell_voltage_v']:.3f} V")
    if "soc_spread_start" in s:
        lines.append(f"  SOC spread          {100 * s['soc_spread_start']:.2f} % -> {100 * s['soc_spread_end']:.2f} %")
    if "max_temperature_c" in s:
        lines.append(f"  hottest cell        {s['max_temperature_c']:.1f} degC")
    if "balancing_energy_dissipated_wh" in s:
        lines.append(f"  balancing           {s['balancing_charge_moved_ah']:.3f} Ah moved, {s['balancing_energy_dissipated_wh']:.2f} Wh dissipated")
    trips = {k: v for k, v in s.get("protection_trips", {}).items() if v}
    lines.append(f"  protection trips    {', '.join(f'{k} x{v}' for k, v in trips.items()) if trips else 'none'}")
    lines.append(f"  written to          {output}")
    return "\n".join(lines)


# --- params -----------------------------------------------------------------------------------------

@main.group()
def params():
    """Parameter sets: list, show, write.

    \b
    Example:
      twin params show eve_lf280k_16s
      twin params write eve_lf280k_16s -o mypack.toml
    """


@params.command("list")
def params_list():
    """Named parameter sets."""
    from . import parameter_sets

    for name in parameter_sets.names():
        click.echo(f"{name:20s} {parameter_sets.describe(name)}")


@params.command("show")
@click.argument("name", required=False)
def params_show(name):
    """Scalar values of a parameter set (tables abbreviated), with units.

    \b
    Example:
      twin params show mypack.toml
    """
    from . import parameter_sets
    from .params import ParameterSet
    from .spec import load_spec

    pset = ParameterSet.load(name or parameter_sets.DEFAULT)
    spec = load_spec()
    click.echo(f"# {pset.source}")
    for v in spec.variables:
        if v.where in ("pack", "cells") and v.causality != "parameter" and v.id not in pset.values:
            continue
        value = pset.get(v.id)
        if value is None:
            continue
        if isinstance(value, list) and len(value) > 6:
            value = f"[{len(value)} values]"
        click.echo(f"{v.id:45s} {str(value):>20s} {'' if v.unit == '1' else v.unit}")
    for f in pset.faults:
        click.echo(f"fault: cell {f.cell} {f.kind} = {f.value} from {f.onset} s")


@params.command("write")
@click.argument("name", required=False)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), required=True)
def params_write(name, output):
    """Write a parameter set to a TOML or JSON file to edit.

    \b
    Example:
      twin params write -o mypack.toml
    """
    from . import parameter_sets
    from .params import ParameterSet, write_parameter_file

    pset = ParameterSet.load(name or parameter_sets.DEFAULT)
    write_parameter_file(pset, output)
    click.echo(f"wrote {output}")


@main.command()
@click.option("--where", type=click.Choice(["settings", "cells", "pack", "table", "builder", "adapter"]), default=None)
def variables(where):
    """Every parameter and variable with its unit (the spec).

    \b
    Example:
      twin variables --where pack
    """
    from .spec import load_spec

    for v in load_spec().variables:
        if where is None or v.where == where:
            click.echo(f"{v.id:45s} {v.unit:6s} {v.causality:10s} {v.description}")


from .fmu_cli import fmu; main.add_command(fmu)  # noqa: E402,E702  (after main exists: no import cycle)
from .replay_cli import replay; main.add_command(replay)  # noqa: E402,E702
from .fit_cli import fit; main.add_command(fit)  # noqa: E402,E702
from .live_cli import can_play, live; main.add_command(live); main.add_command(can_play)  # noqa: E402,E702
from .validate_cli import validate; main.add_command(validate)  # noqa: E402,E702

if __name__ == "__main__":
    main()

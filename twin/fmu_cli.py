"""``twin fmu``: the twin as an FMI co-simulation FMU (a thin skin over ``twin.fmu_build``)."""

from __future__ import annotations

import click


@click.group()
def fmu():
    """Export the twin as an FMI co-simulation FMU for FMPy, OpenModelica, Dymola, Simulink.

    \b
    Example:
      twin fmu build --fmi 3 -o Pack.fmu
      fmpy simulate Pack.fmu --start-values pack.current -56 --stop-time 3600
    """


@fmu.command("build")
@click.option("--fmi", "fmi_version", type=click.Choice(["2", "3"]), default="3", show_default=True,
              help="FMI version of the model description and the entry points.")
@click.option("--cells", type=click.IntRange(1, 65535), default=None,
              help="Cells in series (overrides the parameter set); fixed in the FMU.")
@click.option("--params", "-p", default=None, metavar="NAME|FILE",
              help="Parameter set to bake in: a name (see 'twin params list') or a TOML/JSON file. "
                   "Default: eve_lf280k_16s.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default="Pack.fmu", show_default=True,
              help="FMU to write; its file name without .fmu is the model identifier.")
@click.option("--cc", default=None, metavar="COMPILER", help="C compiler [default: $CC, else cc].")
@click.option("--no-binary", is_flag=True, help="Write the sources only, for an importer to compile (fmpy compile).")
def build(fmi_version, cells, params, output, cc, no_binary):
    """Compile the twin into a co-simulation FMU: binary, model description and C sources.

    \b
    The parameter set is baked in: its values become the start values of the FMU's
    parameters (the cell-to-cell spread realized per cell) and its cell tables and faults
    are fixed in the binary. sources/ lets importers compile the FMU on other platforms
    (e.g. `fmpy compile Pack.fmu`). Variables, value references and rules:
    docs/fmu-variables.md.

    \b
    Example:
      twin fmu build --fmi 3 -o Pack.fmu
      twin fmu build --fmi 2 --cells 8 --params mypack.toml -o Pack8.fmu
    """
    from .fmu_build import build_fmu

    done = build_fmu(output, fmi_version=int(fmi_version), params=params, cells=cells, cc=cc, binary=not no_binary)
    what = "variables" if done.fmi_version == 3 else "scalar variables"
    binary = f"binary for {done.platform}, C sources included" if done.platform else "C sources only"
    click.echo(f"wrote {done.path}: FMI {done.fmi_version}.0 co-simulation, model identifier {done.model_identifier}, "
               f"{done.n_cells} cells ({done.parameter_set}), {done.n_variables} {what}, {binary}")

"""``twin validate``: a BMS firmware in the loop against scenario suites and limits (a thin skin over
``twin.validate`` and ``twin.validate_logs``)."""

from __future__ import annotations

import sys

import click

EXIT_FAILED = 1


def _include_dir(ctx, param, value):
    if value and not ctx.resilient_parsing:
        from .firmware import include_dir

        click.echo(str(include_dir()))
        ctx.exit(0)


@click.command()
@click.option("--firmware", "-f", metavar="FIRMWARE",
              help="The firmware to validate: my_bms.so or my_bms.c (built against twin_firmware.h), "
                   "package.module:factory or path/file.py:factory (Python), or my_bms.fmu (FMI 2.0/3.0).")
@click.option("--scenarios", "-s", type=click.Path(exists=True), metavar="PATH",
              help="A scenario file or a directory of them (docs/validation.md).")
@click.option("--limits", "-l", type=click.Path(exists=True, dir_okay=False), required=False, metavar="FILE",
              help="The limits file (TOML, in the terms of a BMS specification).")
@click.option("--baseline", "-b", metavar="FIRMWARE",
              help="The previous firmware: run it too and fail on regressions, set side by side.")
@click.option("--logs", nargs=2, type=click.Path(exists=True, dir_okay=False), metavar="BEFORE AFTER",
              help="Instead of a firmware: compare two recorded BMS logs, before and after an update, through the twin.")
@click.option("--mapping", "-m", type=click.Path(exists=True, dir_okay=False),
              help="With --logs: TOML mapping for logs not in the canonical layout (docs/log-format.md).")
@click.option("--params", "-p", default=None, metavar="NAME|FILE",
              help="With --logs: parameter set of the logged pack [default: the built-in LFP set at the log's capacity].")
@click.option("--ambient", type=float, default=25.0, show_default=True,
              help="With --logs: ambient temperature (degC) for the twin's thermal model.")
@click.option("--period", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Control period proposed to the firmware, s [default: 1 s, or what the firmware sets].")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, writable=True), help="Write JUnit XML (for CI).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True), help="Write the results as JSON.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Write an HTML report with plots.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=1, show_default=True, help="Scenarios run in parallel.")
@click.option("--watchdog", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              help="Seconds of wall time a firmware may spend in one control period before it counts as hung.")
@click.option("--quiet", "-q", is_flag=True, help="No per-scenario lines on stderr and no summary.")
@click.option("--include-dir", is_flag=True, expose_value=False, is_eager=True, callback=_include_dir,
              help="Print the directory of twin_firmware.h (for -I) and exit.")
def validate(firmware, scenarios, limits, baseline, logs, mapping, params, ambient, period, junit_path, json_path,
             report_path, jobs, watchdog, quiet):
    """Validate a BMS firmware (update) against the twin, closed loop.

    The firmware runs each scenario against the twin: every control period it reads the cell
    voltages, temperatures and pack current the twin's sensors give and decides balancing,
    charge/discharge enable and CVL/CCL/DCL, which the twin's inverter obeys. Checks: cells
    within limits, top-of-charge spread and time to balance, balancing current, thermal rise,
    energy dissipated, every protection tripping within its delay and never otherwise, charge
    limits consistent with the cells. Exit status: 0 all passed, 1 a check failed or a
    regression against --baseline, 2 bad input.

    \b
    Example:
      twin validate --firmware examples/firmware/voltage_delta.c \\
          --scenarios examples/validation/scenarios --limits examples/validation/limits.toml \\
          --junit results.xml --report report.html
      twin validate -f new_bms.so -b old_bms.so -s suite/ -l limits.toml
      twin validate --logs before.h5 after.h5 --limits limits.toml --mapping my-bms.toml
    """
    from .errors import ValidationError
    from .validate_report import write_html, write_json, write_junit

    if limits is None:
        raise ValidationError("--limits is required: the limits file to check against (docs/validation.md)")
    if logs:
        if firmware or baseline or scenarios:
            raise ValidationError("--logs compares two recorded logs; it takes no --firmware, --baseline or --scenarios")
        from .validate_logs import validate_logs

        result = validate_logs(logs[0], logs[1], limits, mapping=mapping, params=params, ambient=ambient)
    else:
        if not firmware or not scenarios:
            raise ValidationError("give --firmware and --scenarios (or --logs BEFORE AFTER); see `twin validate --help`")
        from .validate import validate as run

        result = run(firmware, scenarios, limits, baseline=baseline, period=period, jobs=jobs, watchdog=watchdog,
                     progress=None if quiet else _progress)
    if junit_path:
        write_junit(result, junit_path)
    if json_path:
        write_json(result, json_path)
    if report_path:
        write_html(result, report_path)
    if not quiet:
        click.echo(summary(result, {"JUnit": junit_path, "JSON": json_path, "report": report_path}))
    sys.exit(0 if result.passed else EXIT_FAILED)


def _progress(who, name, run):
    failed = sum(c.status == "fail" for c in run.results)
    word = "baseline " if who == "baseline" else ""
    state = f"{failed} failed" if failed else "passed"
    click.echo(f"  {word}{name}: {state} ({len(run.results)} checks, {run.steps} steps in {run.wall_s:.1f} s)", err=True)


def summary(result, outputs) -> str:
    counts = result.counts()
    head = f"twin validate: {result.firmware}" + (f" against {result.baseline}" if result.baseline else "")
    lines = [head, f"  {counts['pass']} checks passed, {counts['fail']} failed, {counts['skip']} not measured"
             + (f", {counts['regressions']} regressions" if result.baseline else "")]
    for run in result.runs:
        for c in run.results:
            if c.status == "fail":
                lines.append(f"  FAIL {run.scenario}: {c.title}: {c.message}")
    for reg in result.regressions:
        lines.append(f"  REGRESSION {reg.scenario}: {reg.text}")
    for what, path in outputs.items():
        if path:
            lines.append(f"  {what}: {path}")
    lines.append("  PASSED" if result.passed else "  FAILED")
    return "\n".join(lines)

"""`twin live` and `twin can-play`: the twin beside a BMS on a CAN bus, and a log played as one."""

from __future__ import annotations

import json
import sys
import threading
import time as _time
from pathlib import Path

import click

from .replay_cli import EXIT_FLAGGED, _describe

DEMO_CHANNEL = "twin-demo"


def _speed(value):
    if value is None or str(value).lower() in ("max", "inf"):
        return None
    try:
        x = float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a factor (1 = real time, 60 = a minute per second) or 'max'") from None
    if not x > 0:
        raise click.BadParameter(f"{value!r}: the speed must be positive (or 'max')")
    return x


def _duration(value, what):
    from .units import parse_duration

    return None if value is None else parse_duration(value, what)


def bus_options(f):
    f = click.option("--bitrate", type=click.IntRange(1), default=None,
                     help="Bit rate in bit/s, for interfaces that set it (SocketCAN is set up with `ip link`).")(f)
    f = click.option("--channel", "-c", default=None,
                     help=f"Bus channel [default: can0, or {DEMO_CHANNEL} on the virtual interface].")(f)
    f = click.option("--interface", "-i", default=None,
                     help="python-can interface: socketcan, virtual, pcan, kvaser, slcan, ... [default: socketcan, "
                          "or virtual with --play].")(f)
    return f


def mapping_option(f):
    return click.option("--mapping", "-m", default=None, metavar="NAME|FILE",
                        help="CAN mapping: which DBC signal carries which channel (docs/can.md) "
                             "[default: pylontech-twin-16s, shipped].")(f)


def open_bus(interface, channel, bitrate=None):
    """A python-can bus, or a CanError saying how to get one."""
    from .can_mapping import can_module
    from .errors import CanError

    can = can_module()
    kw = {"bitrate": bitrate} if bitrate else {}
    try:
        return can.Bus(interface=interface, channel=channel, **kw)
    except (can.CanError, OSError, ValueError, ImportError, NotImplementedError) as e:
        hint = ("bring it up first (sudo ip link set can0 up type can bitrate 500000; for a virtual one: sudo modprobe "
                "vcan && sudo ip link add dev vcan0 type vcan && sudo ip link set vcan0 up)" if interface == "socketcan"
                else "check the interface name and its driver (python-can's list of interfaces)")
        raise CanError(f"cannot open CAN interface {interface!r} channel {channel!r}: {e}; {hint}") from None


def _clock(t) -> str:
    return f"{t / 3600:8.2f} h"


@click.command()
@mapping_option
@bus_options
@click.option("--params", "-p", default=None, metavar="NAME|FILE",
              help="Parameter set of the cells [default: the built-in LFP set scaled to the mapping's capacity].")
@click.option("--capacity-ah", type=click.FloatRange(min=0, min_open=True), default=None,
              help="The cells' rated capacity in Ah (overrides the mapping's [log] nominal_capacity_ah).")
@click.option("--record", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Record every sample to this canonical HDF5 log (replays bit for bit).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True), help="Write flags and bus figures as JSON at the end.")
@click.option("--publish", is_flag=True, help="Send the twin's view on the bus: flags, CVL/CCL/DCL, per-cell deviation (TWIN_VIEW_*).")
@click.option("--duration", default=None, metavar="TIME", help="Stop after this long, e.g. '8 h' [default: until Ctrl-C].")
@click.option("--stop-when-quiet", default=None, metavar="TIME", help="Stop when the bus has been quiet this long, e.g. '30 s'.")
@click.option("--quiet-after", default="5 s", show_default=True, metavar="TIME", help="Say so when the bus is quiet this long.")
@click.option("--status-every", default="1 min", show_default=True, metavar="TIME",
              help="A status line on stderr this often ('0' for none).")
@click.option("--play", "play_log", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Demo: play this log onto the bus from this process, as a stand-in BMS (see twin can-play).")
@click.option("--log-mapping", type=click.Path(exists=True, dir_okay=False), default=None,
              help="With --play: the HDF5 mapping of the played log (docs/log-format.md).")
@click.option("--speed", default="max", show_default=True, help="With --play: 1 real time, 60 a minute per second, or max.")
@click.option("--from", "from_", default=None, metavar="TIME", help="With --play: start at this time of the log, e.g. '30 h'.")
@click.option("--to", default=None, metavar="TIME", help="With --play: stop at this time of the log.")
def live(mapping, interface, channel, bitrate, params, capacity_ah, record, json_path, publish, duration, stop_when_quiet,
         quiet_after, status_every, play_log, log_mapping, speed, from_, to):
    """Run the twin beside a live BMS on a CAN bus and print flags as they are raised.

    Frames are decoded through the mapping's DBC file, gathered into samples and run through the
    same detector as `twin replay`; --record keeps them as a log that replays bit for bit. The bus
    going quiet, a BMS restart, missing, late, duplicate and unknown frames are reported, never
    fatal. Exit status: 0 nothing flagged, 1 something flagged, 2 bad input.

    \b
    Example:
      twin live --interface socketcan --channel can0 --capacity-ah 280 --record today.h5
      twin live --play ../shared/data/dev-packs/pack_102.h5 --log-mapping examples/mappings/dev-pack.toml \\
          --mapping examples/can/dev-pack-can.toml --from 30h --to 32h
    """
    from .can_mapping import CanMapping
    from .live import LiveTwin

    interface = interface or ("virtual" if play_log else "socketcan")
    channel = channel or (DEMO_CHANNEL if interface == "virtual" else "can0")
    play_speed = _speed(speed)
    quiet_s = _duration(quiet_after, "--quiet-after")
    status_s = _duration(status_every, "--status-every")
    stop_quiet = _duration(stop_when_quiet, "--stop-when-quiet")
    run_for = _duration(duration, "--duration")
    can_mapping = CanMapping.load(mapping)
    where = f"{interface} {channel}"
    bus = open_bus(interface, channel, bitrate)
    player, played, stop = None, {}, threading.Event()
    try:
        twin = LiveTwin(can_mapping, params=params, capacity_ah=capacity_ah, record=record,
                        publish=bus if publish else None, source=f"CAN {where}")
        click.echo(f"twin live: {where}, {can_mapping.describe()}")
        if play_log:
            player = _start_player(play_log, log_mapping, can_mapping, interface, channel, bitrate, play_speed, from_,
                                   to, twin, stop, played)
    except BaseException:
        bus.shutdown()
        raise
    err = lambda text: click.echo(text, err=True)  # noqa: E731

    def on_flag(r):
        f = r.flag
        click.echo(f"[{_clock(r.sample_time)}] cell {f.cell:3d}  {f.kind:15s} {_describe(f)}: {f.evidence}")

    def on_event(kind, text):
        err(f"[{_time.strftime('%H:%M:%S')}] {text}")

    try:
        twin.run(bus, on_flag=on_flag, on_event=on_event, stop=stop if player else None, duration=run_for,
                 stop_when_quiet=stop_quiet, quiet_s=quiet_s, status_every=status_s or None)
    except KeyboardInterrupt:
        err("stopped")
    finally:
        stop.set()
        if player is not None:
            player.join()
        bus.shutdown()
    result = twin.close()
    if "error" in played:
        raise played["error"]
    if json_path:
        Path(json_path).write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    click.echo(_summary(result))
    sys.exit(EXIT_FLAGGED if result.flags else 0)


def _start_player(log, log_mapping, can_mapping, interface, channel, bitrate, speed, from_, to, twin, stop, played):
    from .can_play import play

    start_s, end_s = _duration(from_, "--from"), _duration(to, "--to")
    tx = open_bus(interface, channel, bitrate)
    in_process = interface == "virtual"

    def run():
        try:
            played["result"] = play(log, tx, can_mapping, log_mapping, speed=speed, start_s=start_s, end_s=end_s,
                                    stop=stop, backlog=(lambda: twin.assembler.stats.frames) if in_process else None)
        except Exception as e:  # handed to the main thread, which raises TwinErrors cleanly
            played["error"] = e
        finally:
            tx.shutdown()
            stop.set()  # the live side takes what is still on the bus, then ends

    th = threading.Thread(target=run, name="twin-can-play", daemon=True)
    th.start()
    return th


def _summary(r) -> str:
    b = r.bus
    span = (r.end_s - r.start_s) / 3600 if r.samples else 0.0
    lines = [f"twin live: {r.samples} samples over {span:.2f} h from {b['frames']} frames in {r.seconds:.1f} s"]
    extra = [f"{b[k]} {label}" for k, label in (("incomplete_samples", "incomplete samples"),
                                                ("unknown_frames", "unknown frames"), ("unmapped_frames", "unmapped"),
                                                ("late_frames", "late"), ("duplicate_frames", "duplicates"),
                                                ("malformed_frames", "malformed"), ("bms_restarts", "BMS restarts"))
             if b[k]]
    if extra:
        lines.append("  bus: " + ", ".join(extra))
    if b["frames_missing"]:
        lines.append("  frames missing from incomplete samples: " + ", ".join(f"{k} x{v}" for k, v in b["frames_missing"].items()))
    if b["unknown_ids"]:
        lines.append("  unknown ids (ignored): " + ", ".join(f"{k} x{v}" for k, v in list(b["unknown_ids"].items())[:8]))
    if not r.flags:
        lines.append("  no cell diverges from its peers")
    for f in r.flags:
        lines.append(f"  cell {f.cell:3d}  {f.kind:15s} from {f.first_flagged_s / 3600:7.2f} h  {_describe(f)}")
    if r.recorded:
        lines.append(f"  recorded: {r.recorded} (twin replay {r.recorded})")
    return "\n".join(lines)


@click.command("can-play")
@click.argument("log", type=click.Path(exists=True, dir_okay=False))
@mapping_option
@bus_options
@click.option("--log-mapping", type=click.Path(exists=True, dir_okay=False), default=None,
              help="TOML mapping for a log not in the canonical layout (docs/log-format.md).")
@click.option("--speed", default="1", show_default=True, help="1 real time, 60 a minute per second, or max.")
@click.option("--from", "from_", default=None, metavar="TIME", help="Start at this time of the log, e.g. '30 h'.")
@click.option("--to", default=None, metavar="TIME", help="Stop at this time of the log.")
@click.option("--loop", is_flag=True, help="Start again at the end (until Ctrl-C), as a BMS that restarts.")
@click.option("--quiet", "-q", is_flag=True, help="No summary.")
def can_play(log, mapping, interface, channel, bitrate, log_mapping, speed, from_, to, loop, quiet):
    """Play a recorded log onto a CAN bus, as a stand-in BMS.

    Each sample becomes the frames of the CAN mapping (the shipped Pylontech-style protocol with
    per-cell frames by default), sent at the log's pace divided by --speed.

    \b
    Example:
      twin can-play pack.h5 --interface socketcan --channel vcan0 --speed 10
      twin can-play ../shared/data/dev-packs/pack_101.h5 --log-mapping examples/mappings/dev-pack.toml \\
          --mapping examples/can/dev-pack-can.toml -c vcan0 --speed max
    """
    from .can_play import play

    interface = interface or "socketcan"
    channel = channel or (DEMO_CHANNEL if interface == "virtual" else "can0")
    bus = open_bus(interface, channel, bitrate)
    try:
        result = play(log, bus, mapping, log_mapping, speed=_speed(speed), start_s=_duration(from_, "--from"),
                      end_s=_duration(to, "--to"), loop=loop)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
        return
    finally:
        bus.shutdown()
    if not quiet:
        rate = result.frames / result.seconds if result.seconds > 0 else float("inf")
        click.echo(f"twin can-play: {result.samples} samples ({result.start_s / 3600:.2f} h to {result.end_s / 3600:.2f} h "
                   f"of {Path(log).name}) as {result.frames} frames on {interface} {channel} in {result.seconds:.1f} s "
                   f"({rate:.0f} frames/s)" + (f"; {result.skipped_frames} frames not sent (non-numbers)"
                                                if result.skipped_frames else ""))

"""Typed errors. Each one says what was wrong, where, and how to fix it.

The CLI turns a ``TwinError`` into one clean message and exit status 2; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path


class TwinError(Exception):
    """Base of every expected failure (bad input, bad parameters, bad files)."""

    exit_code = 2


class SpecError(TwinError):
    """The variable declaration (spec.toml) or a lookup in it is wrong."""


class ParameterError(TwinError):
    """A parameter set or parameter file is wrong: unknown key, missing or out-of-range value."""


class ExperimentError(TwinError):
    """An experiment step or current profile cannot be understood."""


class KernelError(TwinError):
    """The C kernel refused a value or a state (it names the variable)."""


class LogError(TwinError):
    """A log file is missing, malformed, or does not fit its mapping."""


class CanError(TwinError):
    """A CAN mapping, DBC file or bus cannot be used as asked (it names the file, signal or interface)."""


class FitError(TwinError):
    """Data cannot give the parameters asked for (too short, clipped, no rests or pulses) or a fit failed."""


class FmuError(TwinError):
    """An FMU cannot be built: no C compiler, no FMI headers, a compile error, a bad option."""


class FirmwareError(TwinError):
    """A firmware to validate cannot be found, compiled or loaded (it names the file and the fix)."""


class ValidationError(TwinError):
    """A scenario or limits file for `twin validate` is wrong (it names the file, the key and the value)."""


def suggest(word: str, choices) -> str:
    """' (did you mean 'x'?)' when something close exists, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_toml(path, error: type, what: str) -> dict:
    """The TOML file at `path` as a dict; an `error` (a TwinError class) naming `what` and the file
    when it cannot be read or is not valid TOML."""
    p = Path(path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise error(f"cannot read {what} {p}: {e.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise error(f"{p}: not valid TOML: {e}") from None

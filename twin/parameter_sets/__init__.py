"""Named parameter sets, one source each (see each module's docstring or file header for provenance).

Two kinds: Python modules (values written with their sources in the docstring, like
eve_lf280k.py), and TOML files in data/ (for example sets identified by ``twin fit``, which record
in their header how they were made). Both load by name.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from ..errors import ParameterError, suggest
from . import eve_lf280k

_MODULES = {eve_lf280k.NAME: eve_lf280k}
DEFAULT = eve_lf280k.NAME


def _data_files() -> dict:
    folder = resources.files(__name__).joinpath("data")
    return {p.name[: -len(".toml")]: p for p in folder.iterdir() if p.name.endswith(".toml")} if folder.is_dir() else {}


def names() -> tuple:
    return tuple(_MODULES) + tuple(sorted(_data_files()))


NAMES = names()


def describe(name: str) -> str:
    """First line of a set's provenance."""
    if name in _MODULES:
        return _MODULES[name].__doc__.strip().splitlines()[0]
    text = _data_files()[name].read_text(encoding="utf-8")
    first = [line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")]
    return first[0] if first else name


@lru_cache(maxsize=None)
def get(name: str = DEFAULT):
    """The named parameter set as a ``twin.params.ParameterSet``."""
    from ..params import ParameterSet

    if name in _MODULES:
        return ParameterSet(_MODULES[name].parameters(), name)
    files = _data_files()
    if name in files:
        import tomllib

        data = tomllib.loads(files[name].read_text(encoding="utf-8"))
        pset = ParameterSet.from_mapping(data, source=name)
        return pset
    raise ParameterError(f"no parameter set named {name!r}{suggest(name, names())}; named sets: {', '.join(names())}")

"""Named parameter sets, one module per source (see each module's docstring for provenance)."""

from __future__ import annotations

from functools import lru_cache

from ..errors import ParameterError, suggest
from . import eve_lf280k

_MODULES = {eve_lf280k.NAME: eve_lf280k}
NAMES = tuple(_MODULES)
DEFAULT = eve_lf280k.NAME


@lru_cache(maxsize=None)
def get(name: str = DEFAULT):
    """The named parameter set as a ``twin.params.ParameterSet``."""
    from ..params import ParameterSet

    try:
        module = _MODULES[name]
    except KeyError:
        raise ParameterError(f"no parameter set named {name!r}{suggest(name, NAMES)}; named sets: {', '.join(NAMES)}") from None
    return ParameterSet(module.parameters(), name)

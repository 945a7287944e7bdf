"""twin: a digital twin of LiFePO4 battery packs and their BMS cell balancers.

    from twin import Pack, Experiment
    result = Pack().run(Experiment(["Charge at 0.5C until 3.55 V", "Rest for 2 hours"]))

Conventions (docs/conventions.md): current positive = charging; SOC 0..1 of present capacity;
temperatures in degC; cells 0-based.
"""

__version__ = "0.1.0"

_LAZY = {
    "Pack": ("twin.pack", "Pack"),
    "Experiment": ("twin.experiment", "Experiment"),
    "ParameterSet": ("twin.params", "ParameterSet"),
    "Fault": ("twin.faults", "Fault"),
    "Result": ("twin.results", "Result"),
    "TwinError": ("twin.errors", "TwinError"),
    "load_spec": ("twin.spec", "load_spec"),
}


def __getattr__(name):
    # lazy, so that `python -m twin.codegen` works before the extension is built
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'twin' has no attribute {name!r}")


__all__ = list(_LAZY)

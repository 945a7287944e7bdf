"""Generate the C variable table and the variable reference from ``twin/spec.toml``.

Run ``python -m twin.codegen`` after editing the spec; ``tests/test_codegen.py`` fails while a
generated file differs from what this module would write.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from .spec import Spec, Variable, load_spec

HEADER = "GENERATED from twin/spec.toml by twin/codegen.py: do not edit, run `python -m twin.codegen`."

_C_ENUM = {
    "where": {"settings": "TWIN_WHERE_SETTINGS", "cells": "TWIN_WHERE_CELLS", "pack": "TWIN_WHERE_PACK"},
    "type": {
        "real": "TWIN_TYPE_REAL",
        "integer": "TWIN_TYPE_INTEGER",
        "boolean": "TWIN_TYPE_BOOLEAN",
        "enumeration": "TWIN_TYPE_ENUMERATION",
    },
    "causality": {
        "parameter": "TWIN_CAUSALITY_PARAMETER",
        "structural": "TWIN_CAUSALITY_STRUCTURAL",
        "input": "TWIN_CAUSALITY_INPUT",
        "output": "TWIN_CAUSALITY_OUTPUT",
        "local": "TWIN_CAUSALITY_LOCAL",
    },
    "variability": {
        "fixed": "TWIN_VARIABILITY_FIXED",
        "tunable": "TWIN_VARIABILITY_TUNABLE",
        "discrete": "TWIN_VARIABILITY_DISCRETE",
        "continuous": "TWIN_VARIABILITY_CONTINUOUS",
    },
}


def _c_double(x) -> str:
    if x is None:
        return "TWIN_NONE"
    x = float(x)
    if math.isnan(x):
        return "TWIN_NONE"
    return repr(x)


def _comment(v: Variable) -> str:
    text = v.description.replace("*/", "* /")
    return f"/* [{v.unit}] {text} */"


def _c_field_type(v: Variable) -> str:
    return "double" if v.type == "real" else "int"


def _enum_defs(spec: Spec) -> list[str]:
    out = []
    for e in spec.enumerations.values():
        out.append(f"/* {e.description} */")
        items = ", ".join(f"TWIN_{e.name.upper()}_{val.upper()} = {i}" for i, val in enumerate(e.values))
        out.append(f"enum {{ {items} }};")
    return out


def c_header(spec: Spec) -> str:
    settings = spec.where("settings")
    cells = spec.where("cells")
    pack = spec.where("pack")
    lines = [
        f"/* {HEADER} */",
        "#ifndef TWIN_SPEC_H",
        "#define TWIN_SPEC_H",
        "",
        "#include <stddef.h>",
        "",
        "/* Marks a missing start value or bound in twin_vars (never a valid value). */",
        "#define TWIN_NONE (-1.0e300)",
        "",
        *_enum_defs(spec),
        "",
        "/* Scalar kernel parameters. */",
        "typedef struct twin_settings {",
    ]
    for v in settings:
        dim = f"[{v.length}]" if v.length > 1 else ""
        lines.append(f"    {_c_field_type(v)} {v.c_name}{dim}; {_comment(v)}")
    lines += ["} twin_settings;", "", "/* Per-cell arrays (all double; integers and booleans as whole numbers). */"]
    lines.append("typedef struct twin_cell_arrays {")
    for v in cells:
        lines.append(f"    double *{v.c_name}; {_comment(v)}")
    lines += ["} twin_cell_arrays;", "", "/* X-macro over the per-cell arrays: X(name). */"]
    lines.append("#define TWIN_CELL_ARRAYS(X) \\")
    lines += [f"    X({v.c_name}) \\" for v in cells]
    lines += ["", f"#define TWIN_N_CELL_ARRAYS {len(cells)}", "", "/* Pack-level inputs and outputs. */"]
    lines.append("typedef struct twin_pack_vars {")
    for v in pack:
        lines.append(f"    double {v.c_name}; {_comment(v)}")
    lines += ["} twin_pack_vars;", ""]
    lines += [
        "typedef enum { TWIN_WHERE_SETTINGS, TWIN_WHERE_CELLS, TWIN_WHERE_PACK } twin_where;",
        "typedef enum { TWIN_TYPE_REAL, TWIN_TYPE_INTEGER, TWIN_TYPE_BOOLEAN, TWIN_TYPE_ENUMERATION } twin_type;",
        "typedef enum { TWIN_CAUSALITY_PARAMETER, TWIN_CAUSALITY_STRUCTURAL, TWIN_CAUSALITY_INPUT,",
        "               TWIN_CAUSALITY_OUTPUT, TWIN_CAUSALITY_LOCAL } twin_causality;",
        "typedef enum { TWIN_VARIABILITY_FIXED, TWIN_VARIABILITY_TUNABLE, TWIN_VARIABILITY_DISCRETE,",
        "               TWIN_VARIABILITY_CONTINUOUS } twin_variability;",
        "",
        "/* One row of the variable table. offset is into twin_settings, twin_cell_arrays (a pointer)",
        "   or twin_pack_vars, by `where`. length is the vector length of a settings entry, 0 for a",
        "   per-cell array (its length is the cell count), 1 otherwise. */",
        "typedef struct twin_var_info {",
        "    const char *id;",
        "    unsigned int vr;",
        "    twin_where where;",
        "    twin_type type;",
        "    twin_causality causality;",
        "    twin_variability variability;",
        "    size_t offset;",
        "    int length;",
        "    double min, max, start;",
        "    const char *unit;",
        "    int optional; /* NaN allowed: use the fallback */",
        "} twin_var_info;",
        "",
        f"#define TWIN_N_VARS {len(settings) + len(cells) + len(pack)}",
        "extern const twin_var_info twin_vars[TWIN_N_VARS];",
        "",
        "/* The row with value reference vr, or NULL (rows are sorted by vr). */",
        "const twin_var_info *twin_var_by_vr(unsigned int vr);",
        "",
        "/* Every settings field at its spec start value; fields without one get TWIN_NONE (reals)",
        "   or -1 (integers), which twin_settings_check rejects until they are set. */",
        "void twin_settings_defaults(twin_settings *s);",
        "",
        "#endif",
        "",
    ]
    return "\n".join(lines)


def c_source(spec: Spec) -> str:
    rows, defaults = [], []
    for v in sorted(spec.variables, key=lambda v: v.vr):
        if v.where not in ("settings", "cells", "pack"):
            continue
        lo, hi = v.min, v.max
        if v.type == "enumeration":
            lo, hi = 0, len(spec.enumerations[v.enumeration].values) - 1
        elif v.type == "boolean":
            lo, hi = 0, 1
        struct = {"settings": "twin_settings", "cells": "twin_cell_arrays", "pack": "twin_pack_vars"}[v.where]
        length = 0 if v.where == "cells" else v.length
        start = spec.start_value(v)
        start_c = _c_double(start[0] if isinstance(start, list) else start)
        rows.append(
            f'    {{"{v.id}", {v.vr}u, {_C_ENUM["where"][v.where]}, {_C_ENUM["type"][v.type]}, '
            f'{_C_ENUM["causality"][v.causality]}, {_C_ENUM["variability"][v.variability]}, '
            f"offsetof({struct}, {v.c_name}), {length}, {_c_double(lo)}, {_c_double(hi)}, "
            f'{start_c}, "{v.unit}", {int(v.optional)}}},'
        )
        if v.where == "settings":
            if v.length > 1:
                vals = start if isinstance(start, list) else [start] * v.length
                for i, x in enumerate(vals):
                    defaults.append(f"    s->{v.c_name}[{i}] = {_c_double(x)};")
            elif v.type == "real":
                # no start value: NaN, which twin_pack_check reports as "has no value"
                defaults.append(f"    s->{v.c_name} = {'NAN' if _c_double(start) == 'TWIN_NONE' else _c_double(start)};")
            else:
                defaults.append(f"    s->{v.c_name} = {int(start) if start is not None else -1};")
    return "\n".join(
        [
            f"/* {HEADER} */",
            "#include <math.h>",
            "",
            '#include "twin_spec.h"',
            "",
            "const twin_var_info twin_vars[TWIN_N_VARS] = {",
            *rows,
            "};",
            "",
            "const twin_var_info *twin_var_by_vr(unsigned int vr)",
            "{",
            "    int lo = 0, hi = TWIN_N_VARS - 1;",
            "    while (lo <= hi) {",
            "        int mid = lo + (hi - lo) / 2;",
            "        if (twin_vars[mid].vr == vr) return &twin_vars[mid];",
            "        if (twin_vars[mid].vr < vr) lo = mid + 1; else hi = mid - 1;",
            "    }",
            "    return NULL;",
            "}",
            "",
            "void twin_settings_defaults(twin_settings *s)",
            "{",
            *defaults,
            "}",
            "",
        ]
    )


def _fmt(x) -> str:
    if x is None:
        return ""
    if isinstance(x, list):
        return ", ".join(_fmt(i) for i in x)
    if isinstance(x, float):
        return f"{x:g}"
    return str(x)


def docs_table(spec: Spec) -> str:
    titles = {
        "settings": "Scalar parameters",
        "cells": "Per-cell parameters, inputs and variables",
        "pack": "Pack inputs and outputs",
        "table": "Cell tables over (SOC, temperature)",
        "builder": "Pack builder parameters (become per-cell values)",
        "adapter": "FMU adapter parameters",
    }
    out = [
        f"<!-- {HEADER} -->",
        "# Variables and parameters",
        "",
        "Every parameter and variable of the twin, as declared in `twin/spec.toml`. Ids are used as",
        "they are in parameter files (`[group]` then `name = value`), in HDF5 files (`/group/name`) and",
        "in FMUs (FMI 2.0 expands per-cell arrays to `group.name[1]` .. `group.name[N]`, 1-based).",
        "Current is positive when charging; SOC is a fraction of the cell's present capacity;",
        "temperatures are in degC.",
        "",
    ]
    for where, title in titles.items():
        vs = spec.where(where)
        out += [f"## {title}", "", "| id | vr | unit | causality | start | range | description |", "|---|---|---|---|---|---|---|"]
        for v in vs:
            rng = f"{_fmt(v.min)} .. {_fmt(v.max)}" if v.min is not None or v.max is not None else ""
            if v.type == "enumeration":
                rng = " / ".join(spec.enumerations[v.enumeration].values)
            out.append(
                f"| `{v.id}` | {v.vr} | {v.unit} | {v.causality} | {_fmt(v.start)} | {rng} | {v.description} |"
            )
        out.append("")
    return "\n".join(out)


def generated_files(root: Path) -> dict[Path, str]:
    """Path -> content of every file generated from the spec."""
    from .fmu_docs import docs_table as fmu_docs_table

    spec = load_spec()
    return {
        root / "csrc" / "twin_spec.h": c_header(spec),
        root / "csrc" / "twin_spec.c": c_source(spec),
        root / "docs" / "variables.md": docs_table(spec),
        root / "docs" / "fmu-variables.md": fmu_docs_table(spec),
    }


def main(argv=None) -> int:
    root = Path(__file__).resolve().parent.parent
    for path, text in generated_files(root).items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

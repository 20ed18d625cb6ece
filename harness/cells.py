"""A matrix's cells: which ones a run measures, their labels, and each cell's own config."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence

from harness.config import Config
from harness.errors import HarnessError

#: The axis a local run expands by itself; every other axis labels the CI job of a cell.
LOCAL_AXIS = "python"


def label(values: Mapping[str, str]) -> str:
    """``os=ubuntu-latest, python=3.12`` in the config's axis order."""
    return ", ".join(f"{axis}={value}" for axis, value in values.items())


def parse_selection(items: Sequence[str]) -> dict[str, str]:
    """``--cell python=3.12 --cell os=linux`` (or ``python=3.12,os=linux``) as a mapping."""
    out: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            axis, sep, value = part.partition("=")
            if not sep or not axis.strip() or not value.strip():
                raise HarnessError(f"--cell {item!r}: expected AXIS=VALUE",
                                   "e.g. --cell python=3.12")
            out[axis.strip()] = value.strip()
    return out


def expected(config: Config) -> list[dict[str, str]]:
    """Every cell of the matrix (the product of its axes), in config order."""
    axes = [axis for axis, _ in config.matrix]
    return [dict(zip(axes, combo, strict=True))
            for combo in itertools.product(*(values for _, values in config.matrix))]


def selected(config: Config, selection: Mapping[str, str]) -> list[dict[str, str]]:
    """The cells this run measures: the ones that agree with ``selection``. A label-only axis
    (not ``python``) must be selected, since this machine is one value of it."""
    axes = dict(config.matrix)
    for axis, value in selection.items():
        if axis not in axes:
            raise HarnessError(f"--cell {axis}={value}: the config's matrix has no axis "
                               f"{axis!r}", f"axes: {', '.join(axes) or '(no matrix)'}")
        if value not in axes[axis]:
            raise HarnessError(f"--cell {axis}={value}: not a value of matrix.{axis}",
                               f"one of: {', '.join(axes[axis])}")
    unset = [axis for axis in axes if axis != LOCAL_AXIS and axis not in selection]
    if unset:
        raise HarnessError(f"matrix.{unset[0]}: a local run cannot be every {unset[0]}; "
                           f"choose this job's value", f"run --cell {unset[0]}=VALUE")
    return [cell for cell in expected(config)
            if all(cell[axis] == value for axis, value in selection.items())]


def cell_config(config: Config, cell: Mapping[str, str], python: str | None) -> Config:
    """The config of one cell: every variant built with ``python`` (the cell's interpreter)."""
    if python is None:
        return config
    variants = tuple(
        dataclasses.replace(v, build=dataclasses.replace(
            v.build, options=dataclasses.replace(v.build.options, python=python)))  # type: ignore[type-var]
        for v in config.variants)
    return dataclasses.replace(config, variants=variants)

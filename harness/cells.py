"""A matrix's cells: which ones a run measures, their labels, and each cell's own config.

A cell is named by its canonical label, ``os=ubuntu-24.04, python=3.12``: its axes sorted by
name, whatever order the config lists them in. The label is the cell's identity in a job, a
record's ``expected_cells``, ``merge`` and the comment, so a config that lists ``python``
before ``os`` names the same cells as one listing ``os`` first (the record keeps the config
with sorted keys, so its axis order is not the config file's anyway)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.config_records import Config

#: The axis a local run expands by itself; every other axis labels the CI job of a cell.
LOCAL_AXIS = "python"


def label(values: Mapping[str, str]) -> str:
    """The canonical label ``os=ubuntu-latest, python=3.12``: axes sorted by name."""
    return ", ".join(f"{axis}={values[axis]}" for axis in sorted(values))


def parse_label(text: str) -> dict[str, str]:
    """``os=linux, python=3.12`` as a mapping; ValueError when it is not ``AXIS=VALUE, ...``
    with each axis once (a matrix value holds no ``,``, ``=`` or newline)."""
    out: dict[str, str] = {}
    for part in text.split(", "):
        axis, sep, value = part.partition("=")
        if not sep or not axis or not value or axis in out or "=" in value:
            raise ValueError(f"{text[:80]!r} is not AXIS=VALUE, AXIS=VALUE ...")
        out[axis] = value
    return out


def canonical(text: str) -> str:
    """A cell label in canonical form (axes sorted); "" stays "" (no matrix)."""
    return label(parse_label(text)) if text else ""


def key(text: str) -> str:
    """A cell's identity: its canonical label, so jobs labelled in any axis order meet the
    cells their record expects (text that is no label stays as it is)."""
    try:
        return canonical(text)
    except ValueError:  # not AXIS=VALUE: a record validated at the door has none
        return text


def product(axes: Sequence[tuple[str, Sequence[str]]]) -> list[dict[str, str]]:
    """Every cell of a matrix's axes, axes taken in name order (so a run and a merge, which
    sees the record's sorted config, list the cells in the same order)."""
    ordered = sorted(axes)
    names = [axis for axis, _ in ordered]
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(values for _, values in ordered))]


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
    """Every cell of the matrix (the product of its axes, in axis-name order)."""
    return product(config.matrix)


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


def matrix_cells(config: dict[str, object]) -> tuple[str, ...]:
    """Every cell label of a raw config's ``matrix`` (empty without one)."""
    matrix = config.get("matrix") or {}
    if not isinstance(matrix, dict):
        return ()
    return tuple(label(cell) for cell in product(list(matrix.items())))

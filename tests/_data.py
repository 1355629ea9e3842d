"""Test data shipped with the repository (``tests/data``): the one place tests read it from."""

import functools
import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@functools.cache
def lesson_reference() -> dict:
    """The lesson's reference figures (equilibrium, energies, spectra): ``data/lesson.json``."""
    return json.loads((DATA / "lesson.json").read_text())

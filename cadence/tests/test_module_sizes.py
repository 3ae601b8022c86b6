"""No module of the project's own code grows past 600 lines (issue 15): a module that long
holds more than one idea, and the next reader pays for it. Tests and migrations are exempt."""

from pathlib import Path

CADENCE = Path(__file__).resolve().parents[1]
LIMIT = 600


def test_no_module_is_over_600_lines():
    too_long = {
        str(path.relative_to(CADENCE.parent)): lines
        for path in CADENCE.rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
        if (lines := len(path.read_text().splitlines())) > LIMIT
    }
    assert too_long == {}

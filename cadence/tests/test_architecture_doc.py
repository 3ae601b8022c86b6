"""docs/architecture.md stays true: its table of owners lists every table with the app that owns
it, its events table every event with its handlers, and the rules it names exist."""

import re
from pathlib import Path

from django.apps import apps
from django.utils.module_loading import import_string

from cadence.events import event_map

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _rows(section: str) -> list[list[str]]:
    rows = []
    for line in section.splitlines():
        if line.startswith("| `"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_owners_table_lists_every_table_and_its_app():
    documented = {row[0].strip("`"): row[1] for row in _rows(_section("Who owns which table"))}
    actual = {
        model._meta.db_table: model._meta.app_label
        for model in apps.get_models()
        if model.__module__.startswith("cadence.")
    }
    assert documented == actual


def test_the_events_table_is_the_map_of_events_to_handlers():
    documented = {}
    for row in _rows(_section("Events")):
        handlers = re.findall(r"`([\w.]+)` \(([^)]+)\)", row[2])
        documented[row[0].strip("`")] = [f"{path} ({how})" for path, how in handlers]
    assert documented == event_map()


def test_the_named_rules_exist():
    """Every ``app.module.name`` the rules table names can be imported."""
    section = _section("Named rules")
    names = set(
        re.findall(r"`((?:activities|plans|strategies|suggestions|messaging)\.[\w.]+)`", section)
    )
    assert len(names) >= 10
    for name in sorted(names):
        path = f"cadence.{name}"
        try:
            import_string(path)
        except ImportError:
            # A module, not an attribute of one.
            __import__(path)

"""One owner per table: outside the tests, a model's rows are written only by its own app.

The check reads the source: every call of a writing queryset method (``create``, ``update``,
``bulk_create``, ``delete``...) on a chain that starts at ``<Model>.objects``, in a module of
another app than the model's, is a finding. It cannot see a write through an instance
(``row.save()``) or a relation manager; those go through the owner's services by convention
(docs/architecture.md). The demo loader, the
benchmarks and the synthetic data generators (``cadence/ops``) bulk-load rows of every app for
speed; they never run in a deployment's request or task, and are listed here as the exception.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]
WRITES = {
    "create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
    "get_or_create",
    "update_or_create",
    "save",
}
#: Modules that load data of every app in bulk (demo, benchmarks, synthetic data), not product.
TOOLING = ("ops/demo", "ops/bench/", "ops/management/commands/")


def _models() -> dict[str, str]:
    """Each Cadence model's class name and the app that owns its table."""
    return {
        model.__name__: model._meta.app_label
        for model in apps.get_models()
        if model.__module__.startswith("cadence.")
    }


def _chain_root(node: ast.AST) -> str | None:
    """The model name a ``Model.objects....`` chain starts at, if it does."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            if node.attr == "objects" and isinstance(node.value, ast.Name):
                return node.value.id
            node = node.value
        else:
            return None


def _product_modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" in relative or "/migrations/" in relative or relative.startswith("tests/"):
            continue
        yield relative, path


def _findings() -> list[str]:
    models = _models()
    found = []
    for relative, path in _product_modules():
        app = relative.split("/", 1)[0]
        if relative.startswith(TOOLING):
            continue
        tree = ast.parse(path.read_text(), filename=relative)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = None
            if isinstance(func, ast.Attribute) and func.attr in WRITES:
                name = _chain_root(func.value)
            if name in models and models[name] != app:
                found.append(f"{relative}:{node.lineno} writes {name} ({models[name]}'s)")
    return found


def test_every_table_is_written_only_by_its_app():
    findings = _findings()
    assert not findings, "\n".join(findings)


def test_the_check_finds_a_write_from_another_app(tmp_path, monkeypatch):
    """The scanner is not blind: a module of the plans app creating a Contact is found."""
    fake = tmp_path / "plans"
    fake.mkdir()
    (fake / "leak.py").write_text(
        "from cadence.crm.models import Contact\n"
        "def leak():\n"
        "    Contact.objects.filter(pk=1).update(opted_out=True)\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert _findings() == ["plans/leak.py:3 writes Contact (crm's)"]

"""Rendering step templates for display (task lists, calendar entries).

Templates use Jinja2 syntax (``{{ contact.first_name | default("there") }}``) and are always
rendered by the sandboxed environment. Unknown names render empty here, because a task list
must show something even for a half-written template; sending (which must refuse such output)
applies its own stricter checks.
"""

from __future__ import annotations

from typing import Any

from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

_env = SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)
_MAX_OUTPUT = 10_000


def template_context(*, contact=None, company=None, user=None, plan=None, step=None) -> dict:
    """The names templates see, including the specification's flat ``{{contact_name}}`` and
    ``{{company_name}}``."""
    return {
        "contact": contact,
        "company": company,
        "user": user,
        "plan": plan,
        "step": step,
        "contact_name": contact.full_name if contact is not None else "",
        "company_name": company.name if company is not None else "",
    }


def render_text(source: str | None, context: dict[str, Any]) -> str:
    """Render ``source``; a template that fails to parse or render is shown as written."""
    if not source:
        return ""
    try:
        output = _env.from_string(source).render(context)
    except (TemplateError, TypeError, ValueError, ArithmeticError):
        return source
    return output[:_MAX_OUTPUT]


#: The fields each template object offers; anything else is an unknown placeholder.
PLACEHOLDERS: dict[str, frozenset[str] | None] = {
    "contact": frozenset(
        {"first_name", "last_name", "full_name", "email", "phone", "title", "linkedin_url"}
    ),
    "company": frozenset({"name", "domain", "industry", "size", "country"}),
    "user": frozenset(
        {"first_name", "last_name", "display_name", "email", "signature", "get_full_name"}
    ),
    "plan": frozenset({"plan_start_date", "next_step_due_date", "status"}),
    "step": frozenset({"step_number", "activity_type", "delay_days"}),
    "contact_name": None,
    "company_name": None,
    "unsubscribe_url": None,
}


def template_problems(source: str | None) -> list[str]:
    """What is wrong with a template, each with its line: a syntax error, or a placeholder
    that names no known object or field. An empty list means it may be saved."""
    if not source:
        return []
    try:
        tree = _env.parse(source)
    except TemplateSyntaxError as exc:
        return [f"Line {exc.lineno}: {exc.message}"]
    problems = []
    for name in sorted(meta.find_undeclared_variables(tree) - set(PLACEHOLDERS)):
        line = next(n.lineno for n in tree.find_all(nodes.Name) if n.name == name)
        problems.append(f"Line {line}: unknown placeholder {name!r}.")
    for node in tree.find_all(nodes.Getattr):
        owner = node.node
        if isinstance(owner, nodes.Name) and owner.name in PLACEHOLDERS:
            fields = PLACEHOLDERS[owner.name]
            if fields is not None and node.attr not in fields:
                problems.append(
                    f"Line {node.lineno}: unknown placeholder '{owner.name}.{node.attr}'; "
                    f"{owner.name} has {', '.join(sorted(fields))}."
                )
    return problems


def sample_context(*, user) -> dict:
    """A made-up lead for previews when no contact is chosen."""
    from types import SimpleNamespace

    company = SimpleNamespace(
        name="Acme Analytics",
        domain="acme-analytics.example",
        industry="Technology",
        size="51-200",
        country="DE",
    )
    contact = SimpleNamespace(
        first_name="Ada",
        last_name="Lovelace",
        full_name="Ada Lovelace",
        email="ada@acme-analytics.example",
        phone="",
        title="Head of Data",
        linkedin_url="",
    )
    return template_context(contact=contact, company=company, user=user)

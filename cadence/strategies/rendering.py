"""Rendering step templates for display (task lists, calendar entries).

Templates use Jinja2 syntax (``{{ contact.first_name | default("there") }}``) and are always
rendered by the sandboxed environment. Unknown names render empty here, because a task list
must show something even for a half-written template; sending (which must refuse such output)
applies its own stricter checks.
"""

from __future__ import annotations

from typing import Any

from jinja2 import ChainableUndefined, TemplateError
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

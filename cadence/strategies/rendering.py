"""Rendering step templates for display (task lists, calendar entries).

Templates use Jinja2 syntax (``{{ contact.first_name | default("there") }}``) and are always
rendered by the sandboxed environment. Unknown names render empty here, because a task list
must show something even for a half-written template; sending (which must refuse such output)
applies its own stricter checks.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

#: Longest output a template may produce, in characters (a long email body is ~20,000).
MAX_OUTPUT = 100_000
#: Lines of template code one rendering may run: loops of loops stop here, not in a hung worker.
MAX_STEPS = 200_000
_TEMPLATE_FILE = "<template>"


class RenderLimitError(TemplateError):
    """A template that would produce too much output or do too much work."""


class _BoundedSandbox(SandboxedEnvironment):
    """Jinja2's sandbox (no attribute walks to internals, no unsafe calls), with the two
    operators that can build huge values in one step checked before they run."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        too_large = _number(left) and _number(right) and (abs(right) > 64 or abs(left) > 10**6)
        if operator == "**" and too_large:
            raise RenderLimitError("A power in this template is too large.")
        if operator == "*":
            size = _repeat_size(left, right) or _repeat_size(right, left)
            if size is not None and size > MAX_OUTPUT:
                raise RenderLimitError("This template builds a value that is too large.")
        return super().call_binop(context, operator, left, right)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _repeat_size(sequence, times) -> int | None:
    if isinstance(sequence, (str, list, tuple)) and isinstance(times, int):
        return len(sequence) * times
    return None


_env = _BoundedSandbox(undefined=ChainableUndefined, autoescape=False)


def _render_bounded(source: str, context: dict[str, Any]) -> str:
    """Render with the output and the work bounded; ``RenderLimitError`` past either."""
    template = _env.from_string(source)
    steps = 0

    def count_lines(frame, event, arg):
        nonlocal steps
        if event == "line":
            steps += 1
            if steps > MAX_STEPS:
                raise RenderLimitError("This template does too much work to render.")
        return count_lines

    def tracer(frame, event, arg):
        # Only the template's own compiled code is counted (and slowed down by counting).
        return count_lines if frame.f_code.co_filename == _TEMPLATE_FILE else None

    chunks, size = [], 0
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise RenderLimitError("This template produces too much output.")
            chunks.append(chunk)
    finally:
        sys.settrace(previous)
    return "".join(chunks)


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
        return _render_bounded(source, context)
    except (TemplateError, TypeError, ValueError, ArithmeticError, RecursionError):
        return source


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
    if not problems:
        problems = _render_problems(source)
    return problems


def _render_problems(source: str) -> list[str]:
    """A trial rendering for a sample lead: a template past the limits is refused on save."""
    try:
        _render_bounded(source, sample_context(user=_SAMPLE_USER))
    except RenderLimitError as exc:
        return [exc.message]
    except SecurityError:
        return ["This template uses something templates may not use."]
    except RecursionError:
        return ["This template calls itself too deeply."]
    except (TemplateError, TypeError, ValueError, ArithmeticError):
        return []
    return []


_SAMPLE_USER = SimpleNamespace(
    first_name="Sam",
    last_name="Seller",
    display_name="Sam Seller",
    email="sam@example.com",
    signature="-- Sam",
    get_full_name=lambda: "Sam Seller",
)


def sample_context(*, user) -> dict:
    """A made-up lead for previews when no contact is chosen."""
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

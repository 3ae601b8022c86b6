"""Rendering step templates for display (task lists, calendar entries).

Templates use Jinja2 syntax (``{{ contact.first_name | default("there") }}``) and are always
rendered by the sandboxed environment. Unknown names render empty here, because a task list
must show something even for a half-written template; sending (which must refuse such output)
applies its own stricter checks.
"""

from __future__ import annotations

import functools
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from jinja2 import (
    ChainableUndefined,
    TemplateError,
    TemplateSyntaxError,
    Undefined,
    meta,
    nodes,
)
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


def _default(value, default_value: str = "", boolean: bool = False):
    """Jinja2's ``default``, also for a blank field: a contact with no first name has ``""``,
    and ``{{ contact.first_name | default("there") }}`` must then say "there"."""
    if (
        isinstance(value, Undefined)
        or value is None
        or (isinstance(value, str) and not value.strip())
    ):
        return default_value
    return default_value if boolean and not value else value


def _environment(**options) -> _BoundedSandbox:
    env = _BoundedSandbox(undefined=ChainableUndefined, autoescape=False, **options)
    env.filters["default"] = env.filters["d"] = _default
    return env


_env = _environment()


def _render_bounded(source: str, context: dict[str, Any]) -> str:
    """Render with the output and the work bounded; ``RenderLimitError`` past either."""
    return _render_template_bounded(_compiled(source), context)


@functools.lru_cache(maxsize=512)
def _compiled(source: str):
    # Sending renders the same few templates thousands of times; compiling is the costly part.
    return _env.from_string(source)


def _render_template_bounded(template, context: dict[str, Any]) -> str:
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


# -- Rendering for sending: the personalization check ---------------------------------------------

_empty_outputs: ContextVar[list | None] = ContextVar("_empty_outputs", default=None)


def _note_empty(value):
    found = _empty_outputs.get()
    if found is not None and _is_empty(value):
        found.append(value)
    return value


def _is_empty(value) -> bool:
    return isinstance(value, Undefined) or value is None or not str(value).strip()


_strict_env = _environment(finalize=_note_empty)
_LEAD_NAMES = frozenset({"contact", "company", "contact_name", "company_name"})


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _dotted(node: nodes.Node) -> str | None:
    """``contact.first_name`` for a plain placeholder; ``None`` for anything with a filter,
    a call or arithmetic (a ``default`` filter is the author's answer to emptiness)."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        owner = _dotted(node.node)
        return f"{owner}.{node.attr}" if owner else None
    return None


def _uses_lead(tree: nodes.Template) -> bool:
    return any(name.name in _LEAD_NAMES for name in tree.find_all(nodes.Name))


@functools.lru_cache(maxsize=512)
def _strict_compiled(source: str):
    tree = _strict_env.parse(source)
    return tree, _strict_env.from_string(tree)


def _render_checked(label: str, source: str, context: dict, problems: list[str]):
    """Render one part for sending, noting each placeholder that came out empty; returns the
    text and the parsed tree (``None`` when the template could not be parsed)."""
    try:
        tree, template = _strict_compiled(source)
    except TemplateSyntaxError as exc:
        problems.append(f"{label}, line {exc.lineno}: {exc.message}")
        return "", None
    empty: list = []
    token = _empty_outputs.set(empty)
    try:
        text = _render_template_bounded(template, context)
    except RenderLimitError as exc:
        problems.append(f"{label}: {exc.message}")
        return "", tree
    except SecurityError:
        problems.append(f"{label}: uses something templates may not use.")
        return "", tree
    except RecursionError:
        problems.append(f"{label}: calls itself too deeply.")
        return "", tree
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        problems.append(f"{label}: cannot be rendered ({exc}).")
        return "", tree
    finally:
        _empty_outputs.reset(token)
    if empty:
        named = []
        for output in tree.find_all(nodes.Output):
            for child in output.nodes:
                name = _dotted(child)
                if name is None:
                    continue
                value = _strict_env.compile_expression(name, undefined_to_none=False)(**context)
                if _is_empty(value):
                    named.append(name)
        if named:
            for name in dict.fromkeys(named):
                problems.append(f"{label}: {{{{ {name} }}}} is empty for this lead.")
        else:
            problems.append(f"{label}: a placeholder comes out empty for this lead.")
    if "{{" in text or "{%" in text:
        problems.append(f"{label}: the result still contains template markup.")
    return text, tree


def render_message(subject: str | None, body: str | None, context: dict) -> RenderedMessage:
    """Render an email for sending, with the personalization check: a placeholder that comes
    out empty or unresolved, a template that fails, or a message that names nothing of the lead
    (a bare template sent to everyone alike) is a problem, and a message with problems is not
    sent."""
    problems: list[str] = []
    subject_text, subject_tree = _render_checked("Subject", subject or "", context, problems)
    body_text, body_tree = _render_checked("Body", body or "", context, problems)
    if not subject_text.strip():
        problems.append("Subject: it is empty.")
    if not body_text.strip():
        problems.append("Body: it is empty.")
    trees = [tree for tree in (subject_tree, body_tree) if tree is not None]
    if trees and not any(_uses_lead(tree) for tree in trees):
        problems.append(
            "The message uses no contact or company field: it would go out the same to everyone."
        )
    return RenderedMessage(" ".join(subject_text.split()), body_text, tuple(problems))

"""Rendering step templates for display (task lists, calendar entries) and for sending.

Templates use Jinja2 syntax (``{{ contact.first_name | default("there") }}``) and always run in
:mod:`cadence.strategies.sandbox`, on plain data holding only the documented fields
(:data:`PLACEHOLDERS`). Unknown names render empty for display, because a task list must show
something even for a half-written template; sending (which must refuse such output) applies its own
stricter checks. Whatever goes wrong while parsing, checking or rendering is a *template problem*:
a message for the author on save and preview, a refused send, a marked subject in a list; never an
exception that escapes.
"""

from __future__ import annotations

import datetime
import functools
from contextvars import ContextVar
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined, meta, nodes
from jinja2.sandbox import SecurityError

from cadence.strategies.sandbox import (
    MAX_OUTPUT,
    MAX_STEPS,
    TEMPLATE_FILE,
    BoundedSandbox,
    CallableText,
    RenderLimitError,
    TemplateFields,
    render_bounded,
)

__all__ = [
    "MAX_OUTPUT",
    "MAX_STEPS",
    "PLACEHOLDERS",
    "RenderLimitError",
    "RenderedMessage",
    "RenderedText",
    "render_message",
    "render_text",
    "sample_context",
    "template_context",
    "template_problems",
]


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


def _environment(**options) -> BoundedSandbox:
    env = BoundedSandbox(**options)
    env.filters["default"] = env.filters["d"] = _default
    return env


_env = _environment()


@functools.lru_cache(maxsize=512)
def _compiled(source: str):
    # Sending renders the same few templates thousands of times; compiling is the costly part.
    return _env.from_string(source)


def _render_bounded(source: str, context: dict[str, Any]) -> str:
    """Render with the output and the work bounded; ``RenderLimitError`` past either."""
    return render_bounded(_compiled(source), context)


def problem_text(exc: BaseException) -> str:
    """What went wrong, in words for the template's author, with the line when known."""
    line = getattr(exc, "lineno", None) if isinstance(exc, TemplateSyntaxError) else None
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == TEMPLATE_FILE:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    if isinstance(exc, (RenderLimitError, TemplateSyntaxError)):
        reason = exc.message or "it cannot be rendered."
    elif isinstance(exc, SecurityError):
        reason = str(exc)
    elif isinstance(exc, RecursionError):
        reason = "This template calls itself too deeply."
    elif isinstance(exc, MemoryError):
        reason = "This template builds a value that is too large."
    else:
        detail = str(exc)[:200]
        reason = f"It cannot be rendered ({type(exc).__name__}{': ' + detail if detail else ''})."
    return f"Line {line}: {reason}" if line else reason


# -- The data templates see -----------------------------------------------------------------------

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


def _plain(value: Any) -> Any:
    """A field's value as plain data: text, a number, a date or ``None``."""
    if value is None or isinstance(value, (str, int, float, datetime.date)):
        return value
    if callable(value):
        return CallableText(value())
    return str(value)


def _fields(name: str, obj: Any, label: str) -> TemplateFields | None:
    if obj is None:
        return None
    values = {field: _plain(getattr(obj, field, None)) for field in PLACEHOLDERS[name]}
    if name == "user":
        values["get_full_name"] = CallableText(values["get_full_name"] or "")
    return TemplateFields(values, name=name, label=label)


def template_context(*, contact=None, company=None, user=None, plan=None, step=None) -> dict:
    """The names templates see, as plain data holding only the documented fields (whatever is
    passed in, model or not), with the specification's flat ``{{contact_name}}`` and
    ``{{company_name}}``."""
    contact_name = (getattr(contact, "full_name", "") or "") if contact is not None else ""
    company_name = (getattr(company, "name", "") or "") if company is not None else ""
    user_label = ""
    if user is not None:
        user_label = getattr(user, "display_name", "") or _plain(getattr(user, "get_full_name", ""))
    return {
        "contact": _fields("contact", contact, contact_name),
        "company": _fields("company", company, company_name),
        "user": _fields("user", user, user_label),
        "plan": _fields("plan", plan, ""),
        "step": _fields("step", step, f"Step {step.step_number}" if step is not None else ""),
        "contact_name": contact_name,
        "company_name": company_name,
    }


class RenderedText(str):
    """A rendered template for display; ``problem`` says why it is shown as written instead."""

    problem: str | None = None


def render_text(source: str | None, context: dict[str, Any]) -> RenderedText:
    """Render ``source`` for display. A template that fails to parse or render in any way is
    shown as written, with ``problem`` saying why: one bad template never takes a page down."""
    if not source:
        return RenderedText("")
    try:
        return RenderedText(_render_bounded(source, context))
    except Exception as exc:  # every failure is a template problem, by rule
        shown = RenderedText(source)
        shown.problem = problem_text(exc)
        return shown


def _literal_key(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return node.arg.value if isinstance(node.arg.value, str) else None
    return None


def template_problems(source: str | None) -> list[str]:
    """What is wrong with a template, each with its line: a syntax error, a placeholder that
    names no known object or field (dotted or subscripted), or a failure on a sample lead. An
    empty list means it may be saved."""
    if not source:
        return []
    try:
        tree = _env.parse(source)
    except TemplateSyntaxError as exc:
        return [f"Line {exc.lineno}: {exc.message}"]
    except Exception as exc:  # every failure is a template problem, by rule
        return [problem_text(exc)]
    problems = []
    for name in sorted(meta.find_undeclared_variables(tree) - set(PLACEHOLDERS)):
        line = next(n.lineno for n in tree.find_all(nodes.Name) if n.name == name)
        problems.append(f"Line {line}: unknown placeholder {name!r}.")
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        owner, key = node.node, _literal_key(node)
        if isinstance(owner, nodes.Name) and owner.name in PLACEHOLDERS and key is not None:
            fields = PLACEHOLDERS[owner.name]
            if fields is None or key not in fields:
                known = f"; {owner.name} has {', '.join(sorted(fields))}" if fields else ""
                problems.append(
                    f"Line {node.lineno}: unknown placeholder '{owner.name}.{key}'{known}."
                )
    if not problems:
        problems = _render_problems(source)
    return problems


def _render_problems(source: str) -> list[str]:
    """A trial rendering for a sample lead: a template that fails on it, or past the limits, is
    refused on save."""
    try:
        _render_bounded(source, sample_context(user=_SAMPLE_USER))
    except Exception as exc:  # every failure is a template problem, by rule
        return [problem_text(exc)]
    return []


_SAMPLE_USER = SimpleNamespace(
    first_name="Sam",
    last_name="Seller",
    display_name="Sam Seller",
    email="sam@example.com",
    signature="-- Sam",
    get_full_name=lambda: "Sam Seller",
)
_SAMPLE_STEP = SimpleNamespace(step_number=2, activity_type="Email", delay_days=3)


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
    now = datetime.datetime.now(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    plan = SimpleNamespace(
        plan_start_date=now.date() - datetime.timedelta(days=3),
        next_step_due_date=now,
        status="In Progress",
    )
    return template_context(
        contact=contact, company=company, user=user, plan=plan, step=_SAMPLE_STEP
    )


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


def _evaluate(expression: str, context: dict) -> Any:
    try:
        return _strict_env.compile_expression(expression, undefined_to_none=False)(**context)
    except Exception:  # only naming the empty placeholder; the render succeeded
        return None


def _render_checked(label: str, source: str, context: dict, problems: list[str]):
    """Render one part for sending, noting each placeholder that came out empty; returns the
    text and the parsed tree (``None`` when the template could not be parsed)."""
    try:
        tree, template = _strict_compiled(source)
    except TemplateSyntaxError as exc:
        problems.append(f"{label}, line {exc.lineno}: {exc.message}")
        return "", None
    except Exception as exc:  # every failure is a template problem, by rule
        problems.append(f"{label}: {problem_text(exc)}")
        return "", None
    empty: list = []
    token = _empty_outputs.set(empty)
    try:
        text = render_bounded(template, context)
    except Exception as exc:  # every failure is a template problem, by rule
        problems.append(f"{label}: {problem_text(exc)}")
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
                if _is_empty(_evaluate(name, context)):
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

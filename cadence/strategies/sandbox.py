"""The sandbox that step templates run in.

A template is code written by any rep and run by the web server and the worker, so it is treated
as hostile. Three rules keep it harmless:

- **Plain data only.** Templates see :class:`TemplateFields` (a read-only mapping of the documented
  fields), strings, numbers, dates and what the template builds itself; never a model instance.
  Attribute and item access are an allow-list per type (:meth:`BoundedSandbox.getattr`,
  :meth:`BoundedSandbox.getitem`), so ``user['password']``, ``contact.__class__`` or a manager
  reached through ``attr``/``map`` are refused, whatever the syntax.
- **No value over** :data:`MAX_VALUE` **characters, no rendering producing more than**
  :data:`MAX_WORK` **in all.** Operations that can build a large value from small inputs (repeat,
  power, ``%`` widths, padding, ``replace``, ``join``, ``batch``...) are checked *before* they
  run; every operation's result is measured and charged to the rendering's budget after. Nested
  structures are measured as their text would be, so ``[[s]*10]*10 | string`` is caught.
- **Bounded work.** Lines of template code are counted (:data:`MAX_STEPS`) and a rendering has a
  deadline (:data:`MAX_SECONDS`), so loops of loops stop with a clear problem, not a hung worker.

Everything that goes wrong inside is a :class:`jinja2.TemplateError` subclass or a plain
exception; :mod:`cadence.strategies.rendering` turns each into a template problem.
"""

from __future__ import annotations

import datetime
import functools
import re
import sys
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from jinja2 import ChainableUndefined, TemplateError, Undefined, pass_environment
from jinja2.compiler import CodeGenerator
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from jinja2.utils import Cycler, Joiner, Namespace

#: Longest output a template may produce, in characters (a long email body is ~20,000).
MAX_OUTPUT = 100_000
#: Longest value any one operation may build, in characters (as text).
MAX_VALUE = MAX_OUTPUT
#: Characters all the operations of one rendering may build together.
MAX_WORK = 5_000_000
#: Lines of template code one rendering may run: loops of loops stop here, not in a hung worker.
MAX_STEPS = 200_000
#: Wall-clock seconds one rendering may take; a backstop behind the other limits.
MAX_SECONDS = 5.0
#: Widest padding, width or count a filter or format may ask for.
MAX_WIDTH = 1_000
TEMPLATE_FILE = "<template>"


class RenderLimitError(TemplateError):
    """A template that would produce too much output or do too much work."""


class TemplateFields(Mapping):
    """One template object (the contact, the user...) as plain, read-only data: only the fields
    given, each a string, number, date or ``None``."""

    __slots__ = ("_label", "_name", "_values")

    def __init__(self, values: dict[str, Any], *, name: str, label: str = "") -> None:
        self._values = values
        self._name = name
        self._label = label

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __str__(self) -> str:
        return self._label

    def __repr__(self) -> str:
        return f"<{self._name}>"


class CallableText(str):
    """Text that may also be called, for the documented ``user.get_full_name()``."""

    def __call__(self) -> str:
        return str(self)


# -- Measuring values ------------------------------------------------------------------------------


def weight(value: Any, limit: int = MAX_VALUE) -> int:
    """About how many characters ``value`` makes as text; stops counting past ``limit``, so
    measuring a structure of shared references costs no more than the limit."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 * len(item) + 2
            if total <= limit:
                stack.extend(item)
        elif isinstance(item, dict):
            total += 4 * len(item) + 2
            if total <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, TemplateFields):
            total += len(item._label) + 2
        else:
            total += 16
        if total > limit:
            return total
    return total


def _check_value(value: Any) -> Any:
    size = weight(value)
    if size > MAX_VALUE:
        raise RenderLimitError("This template builds a value that is too large.")
    _charge(size)
    return value


_budget: ContextVar[list[int] | None] = ContextVar("_template_budget", default=None)


def _charge(size: int) -> None:
    budget = _budget.get()
    if budget is None:
        return
    budget[0] -= size
    if budget[0] < 0:
        raise RenderLimitError("This template does too much work to render.")


def _check_width(*numbers: Any) -> None:
    for number in numbers:
        if isinstance(number, bool):
            continue
        if isinstance(number, (int, float)) and abs(number) > MAX_WIDTH:
            raise RenderLimitError(f"A width or count in this template is over {MAX_WIDTH}.")


# printf-style conversions: %[(name)][flags][width][.precision][length]type
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent_format(pattern: Any) -> None:
    if not isinstance(pattern, str):
        return
    for match in _PERCENT.finditer(pattern):
        for part in match.groups():
            if part == "*":
                raise RenderLimitError("A '*' width in a format is not allowed in templates.")
            if part is not None and int(part) > MAX_WIDTH:
                raise RenderLimitError(f"A width in a format is over {MAX_WIDTH}.")


def _check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    grows = len(new) - len(old)
    if grows <= 0:
        return
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    if len(text) + hits * grows > MAX_VALUE:
        raise RenderLimitError("This template builds a value that is too large.")


def _check_join(items: Any, separator: Any = "") -> None:
    if isinstance(items, (list, tuple)):
        sep = len(separator) if isinstance(separator, str) else weight(separator)
        if weight(items) + sep * len(items) > MAX_VALUE:
            raise RenderLimitError("This template builds a value that is too large.")


# -- What templates may reach ----------------------------------------------------------------------

_STR_METHODS = frozenset(
    {
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "index",
        "isalnum",
        "isalpha",
        "isdigit",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "replace",
        "rfind",
        "rindex",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
    }
)
_DATE_ATTRIBUTES = frozenset(
    {"year", "month", "day", "weekday", "isoweekday", "isoformat", "strftime"}
)
_TIME_ATTRIBUTES = frozenset({"hour", "minute"})
_LOOP_ATTRIBUTES = frozenset(
    {
        "index",
        "index0",
        "revindex",
        "revindex0",
        "first",
        "last",
        "length",
        "depth",
        "depth0",
        "previtem",
        "nextitem",
        "cycle",
        "changed",
    }
)
_ALLOWED_ATTRIBUTES: tuple[tuple[type, frozenset[str]], ...] = (
    (str, _STR_METHODS),
    (datetime.datetime, _DATE_ATTRIBUTES | _TIME_ATTRIBUTES),
    (datetime.date, _DATE_ATTRIBUTES),
    (dict, frozenset({"items", "keys", "values", "get"})),
    (list, frozenset({"index", "count"})),
    (tuple, frozenset({"index", "count"})),
    (LoopContext, _LOOP_ATTRIBUTES),
    (Cycler, frozenset({"next", "current", "reset"})),
)
_STRFTIME_WIDTH = re.compile(r"%[-_0^#]*\d")


def _allowed_attribute(obj: Any, attribute: str) -> bool:
    for kind, names in _ALLOWED_ATTRIBUTES:
        if isinstance(obj, kind):
            return attribute in names
    return False


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja2's code generator, with ``a ~ b`` joined by the environment's bounded ``concat``
    (Jinja2 calls a plain ``"".join`` there, which no sandbox hook sees)."""

    def visit_Concat(self, node, frame) -> None:
        self.write("concat(map(str, (")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write(")))")


def _bounded_concat(pieces) -> str:
    chunks, size = [], 0
    for piece in pieces:
        size += len(piece)
        if size > MAX_VALUE:
            raise RenderLimitError("This template builds a value that is too large.")
        chunks.append(piece)
    _charge(size)
    return "".join(chunks)


class _BoundedNamespace(Namespace):
    """``namespace()``, whose attributes are measured as they are set (they outlive a loop)."""

    def __setitem__(self, name: str, value: Any) -> None:
        _check_value(value)
        super().__setitem__(name, value)


def _bounded_range(*args: Any) -> range:
    numbers = range(*args)
    if len(numbers) > 10_000:
        raise RenderLimitError("A range in this template is longer than 10,000.")
    return numbers


#: Filters whose arguments are widths or counts.
_WIDTH_ARGUMENTS = {"center": 1, "indent": 1, "wordwrap": 1, "truncate": 1, "batch": 1, "slice": 1}


def _bounded_filter(name: str, function):
    @functools.wraps(function)
    def run(*args, **kwargs):
        # Filters marked pass_context & co. take that first; the value comes after it.
        offset = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0
        values = args[offset:]
        for argument in (*values, *kwargs.values()):
            if weight(argument) > MAX_VALUE:
                raise RenderLimitError("This template builds a value that is too large.")
        if name in _WIDTH_ARGUMENTS:
            _check_width(*values[1:], *kwargs.values())
        elif name == "format" and values:
            _check_percent_format(values[0])
        elif name == "replace" and len(values) >= 3:
            _check_replace(*values[:4])
        elif name == "join" and values:
            items = list(values[0]) if not isinstance(values[0], str) else values[0]
            separator = values[1] if len(values) > 1 else kwargs.get("d", "")
            _check_join(items, separator)
            args = (*args[:offset], items, *values[1:])
        elif name == "sum" and values:
            items = list(values[0])
            if not all(isinstance(item, (int, float)) for item in items):
                raise RenderLimitError("sum() in templates adds numbers only.")
            args = (*args[:offset], items, *values[1:])
        result = function(*args, **kwargs)
        if isinstance(result, Iterator):
            return _measured(result)
        return _check_value(result)

    return run


def _measured(items: Iterator) -> Iterator:
    for count, item in enumerate(items):
        if count >= 10_000:
            raise RenderLimitError("A sequence in this template is longer than 10,000.")
        yield _check_value(item)


@pass_environment
def _attr(environment, obj: Any, name: Any) -> Any:
    """``attr``, looked up by the sandbox's own rules (Jinja2's reads the object directly)."""
    return environment.getattr(obj, str(name))


class BoundedSandbox(SandboxedEnvironment):
    """Jinja2's sandbox with an allow-list for what a template may reach and every operation
    measured (see the module's docstring)."""

    intercepted_binops = frozenset({"*", "**", "+", "-", "%", "/", "//"})
    code_generator_class = _BoundedCodeGenerator
    concat = staticmethod(_bounded_concat)

    def __init__(self, **options) -> None:
        super().__init__(undefined=ChainableUndefined, autoescape=False, **options)
        self.globals = {
            "range": _bounded_range,
            "dict": dict,
            "cycler": Cycler,
            "joiner": Joiner,
            "namespace": _BoundedNamespace,
        }
        self.filters["attr"] = _attr
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    # -- reaching into values

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(attribute, str) and attribute.startswith("_"):
            return self.unsafe_undefined(obj, attribute)
        if isinstance(obj, Undefined):
            return obj
        if obj is None:
            return self.undefined(obj=obj, name=attribute)
        if isinstance(obj, TemplateFields):
            if attribute in obj:
                return obj[attribute]
            return self.unsafe_undefined(obj, attribute)
        if isinstance(obj, Namespace):
            attributes = object.__getattribute__(obj, "_Namespace__attrs")
            if attribute in attributes:
                return attributes[attribute]
            return self.undefined(obj=obj, name=attribute)
        if _allowed_attribute(obj, attribute):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                return self.undefined(obj=obj, name=attribute)
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return self.unsafe_undefined(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Undefined):
            return obj
        if obj is None:
            return self.undefined(obj=obj, name=argument)
        if isinstance(obj, TemplateFields):
            if isinstance(argument, str) and argument in obj:
                return obj[argument]
            return self.unsafe_undefined(obj, str(argument))
        if isinstance(obj, (str, list, tuple)) and isinstance(argument, (int, slice)):
            try:
                return obj[argument]
            except (IndexError, TypeError, ValueError):
                return self.undefined(obj=obj, name=argument)
        if isinstance(obj, dict):
            try:
                return obj[argument]
            except (KeyError, TypeError):
                return self.undefined(obj=obj, name=argument)
        if isinstance(obj, (Namespace, LoopContext)) and isinstance(argument, str):
            return self.getattr(obj, argument)
        return self.unsafe_undefined(obj, str(argument))

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        # Refused at once, not rendered empty: a probe is a template problem with a reason.
        if isinstance(obj, TemplateFields):
            fields = ", ".join(sorted(obj))
            raise SecurityError(
                f"Templates may not use {attribute!r} of {obj._name}; it has {fields}."
            )
        raise SecurityError(f"Templates may not use {attribute!r} of a {type(obj).__name__}.")

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return not attr.startswith("_") and _allowed_attribute(obj, attr)

    # -- operations that build values

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _number(left) and _number(right):
            if abs(right) > 64 or abs(left) > 10**6:
                raise RenderLimitError("A power in this template is too large.")
        elif operator == "*":
            size = _repeat_size(left, right) or _repeat_size(right, left)
            if size is not None and size > MAX_VALUE:
                raise RenderLimitError("This template builds a value that is too large.")
            if _number(left) and _number(right) and _digits(left) + _digits(right) > 1_000:
                raise RenderLimitError("A number in this template is too large.")
        elif operator == "%":
            _check_percent_format(left)
        if weight(left) + weight(right) > MAX_VALUE:
            raise RenderLimitError("This template builds a value that is too large.")
        return _check_value(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args, **kwargs):
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and getattr(__obj, "__name__", "") == "replace":
            _check_replace(owner, *args[:3])
        if isinstance(owner, datetime.date) and getattr(__obj, "__name__", "") == "strftime":
            pattern = args[0] if args else ""
            if (
                not isinstance(pattern, str)
                or len(pattern) > 200
                or _STRFTIME_WIDTH.search(pattern)
            ):
                raise RenderLimitError("This date format is not allowed in templates.")
        for argument in (*args, *kwargs.values()):
            if weight(argument) > MAX_VALUE:
                raise RenderLimitError("This template builds a value that is too large.")
        return _check_value(super().call(__context, __obj, *args, **kwargs))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _digits(value: Any) -> int:
    return value.bit_length() // 3 if isinstance(value, int) else 0


def _repeat_size(sequence: Any, times: Any) -> int | None:
    if isinstance(sequence, (str, list, tuple)) and isinstance(times, int):
        return weight(sequence) * times
    return None


# -- Running a template within the limits ----------------------------------------------------------


def render_bounded(template, context: dict[str, Any]) -> str:
    """Render a template compiled by a :class:`BoundedSandbox` with the output, the values and
    the work bounded; ``RenderLimitError`` past any of them."""
    steps = 0
    deadline = time.monotonic() + MAX_SECONDS

    def count_lines(frame, event, arg):
        nonlocal steps
        if event == "line":
            steps += 1
            if steps > MAX_STEPS:
                raise RenderLimitError("This template does too much work to render.")
            if steps % 1024 == 0 and time.monotonic() > deadline:
                raise RenderLimitError("This template takes too long to render.")
        return count_lines

    def tracer(frame, event, arg):
        # Only the template's own compiled code is counted (and slowed down by counting).
        return count_lines if frame.f_code.co_filename == TEMPLATE_FILE else None

    chunks, size = [], 0
    token = _budget.set([MAX_WORK])
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
        _budget.reset(token)
    return "".join(chunks)

"""Hostile templates: every injection attempt is refused or rendered inert, and rendering is
bounded so a template cannot hang a worker or exhaust its memory."""

import time
from types import SimpleNamespace

import pytest

from cadence.strategies.rendering import (
    MAX_OUTPUT,
    render_text,
    template_context,
    template_problems,
)

SECRET = "s3cr3t-from-settings"


def _context():
    contact = SimpleNamespace(first_name="Ada", last_name="L", full_name="Ada L")
    return template_context(contact=contact, company=SimpleNamespace(name="Acme"))


@pytest.mark.parametrize(
    "source",
    [
        "{{ contact.__class__.__mro__[1].__subclasses__() }}",
        "{{ contact.__init__.__globals__ }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
        "{{ contact|attr('__class__')|attr('__mro__') }}",
        "{{ 'x'.format.__globals__ }}",
        "{{ '{0.__class__.__mro__}'.format(contact) }}",
        "{{ cycler.__init__.__globals__.os.environ }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ self._TemplateReference__context }}",
        "{{ config }}{{ settings.SECRET_KEY }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_attribute_walks_and_format_tricks_are_inert(source, settings):
    settings.SECRET_KEY = SECRET
    started = time.perf_counter()
    output = render_text(source, _context())
    assert time.perf_counter() - started < 2
    for leak in ("subclasses", "<class", "environ", "uid=", SECRET, "function"):
        assert leak not in output.replace(source, "")


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        "{{ 'x' * 1000000000 }}",
        "{{ 9 ** 9 ** 9 }}",
        "{{ ([1] * 100000) * 100000 }}",
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
        "{% set s = 'x' * 5000 %}{% for a in s %}{% for b in s %}{% for c in s %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        # The security review's F6: widths and padding built before any limit applied.
        "{{ '%0999999999d'|format(1) }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ 'x'.ljust(10**9) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ 'x'|center(1000000000) }}",
        "{{ 'x'|indent(1000000000) }}",
        "{{ [1]|batch(1000000000, 'x')|list }}",
        # Values that double until memory runs out, each step small.
        "{% set s = 'a' * 90000 %}{{ s|replace('a', s) }}",
        "{% set s = 'a' * 90000 %}{{ s.replace('a', s) }}",
        "{% macro twice(s) %}{{ s }}{{ s }}{% endmacro %}{% macro h(s, n) %}{% if n %}"
        "{{ h(twice(s), n - 1) }}{% else %}{{ s|length }}{% endif %}{% endmacro %}{{ h('x', 40) }}",
        "{% set s = 'x' * 90000 %}{% set y %}{% for i in range(10000) %}{{ s }}{% endfor %}"
        "{% endset %}{{ y|length }}",
        "{% set s = 'x' * 90000 %}{% set l = [s, s, s, s, s, s, s, s, s, s] %}"
        "{% set m = [l, l, l, l, l, l, l, l, l, l] %}{{ [m, m, m, m, m]|string|length }}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        "{% set ns = namespace(x=10**64) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}"
        "{% endfor %}{{ ns.x }}",
        "{{ range(10000)|map('replace', '', 'x' * 90000)|list|length }}",
        "{{ range(10)|join('x' * 99999) }}",
    ],
)
def test_runaway_templates_stop_quickly_and_are_refused_on_save(source):
    started = time.perf_counter()
    output = render_text(source, _context())
    assert time.perf_counter() - started < 5
    assert len(output) <= MAX_OUTPUT
    assert output.problem
    started = time.perf_counter()
    assert template_problems(source), source
    assert time.perf_counter() - started < 5


def test_ordinary_loops_still_render():
    source = "{% for i in range(3) %}{{ i }}{% endfor %} {{ contact.first_name * 2 }}"
    assert render_text(source, _context()) == "012 AdaAda"
    assert template_problems(source) == []

from types import SimpleNamespace

from cadence.strategies.rendering import render_text, template_context


def _context():
    contact = SimpleNamespace(first_name="Ada", last_name="Lovelace", full_name="Ada Lovelace")
    company = SimpleNamespace(name="Analytical Engines")
    user = SimpleNamespace(signature="-- Sam")
    return template_context(contact=contact, company=company, user=user)


def test_dotted_and_flat_placeholders():
    out = render_text(
        "Hi {{ contact.first_name }} at {{company_name}} ({{ contact_name }}) {{ user.signature }}",
        _context(),
    )
    assert out == "Hi Ada at Analytical Engines (Ada Lovelace) -- Sam"


def test_default_filter_and_unknown_names():
    assert render_text('Hi {{ contact.nickname | default("there") }}', _context()) == "Hi there"
    assert render_text("Hi {{ nobody.knows }}!", _context()) == "Hi !"


def test_broken_template_is_shown_as_written():
    assert render_text("Hi {{ contact.first_name", _context()) == "Hi {{ contact.first_name"


def test_sandbox_refuses_attribute_walks():
    out = render_text("{{ contact.__class__.__mro__ }}", _context())
    assert "object" not in out

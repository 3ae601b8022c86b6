import pytest

from cadence.core.tests.smtp import RecordingHandler, point_django_at, start_server


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback, with Django's SMTP backend pointed at it."""
    handler = RecordingHandler()
    controller = start_server(handler)
    point_django_at(settings, controller.port)
    try:
        yield handler
    finally:
        controller.stop()

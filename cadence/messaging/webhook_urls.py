"""django-anymail's webhook URLs, with a provider that is not set up answering 404.

Anymail builds a provider's webhook view on each request and raises when the provider's keys or
its optional packages are missing, which Django would turn into a 500 (and an error email) for
every probe of the URL. A webhook that cannot be checked is one that does not exist here.
"""

import functools

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailConfigurationError
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponseNotFound
from django.urls import URLPattern


def _guarded(view):
    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (AnymailConfigurationError, ImproperlyConfigured, ImportError):
            return HttpResponseNotFound(
                "This email provider's webhook is not configured.", content_type="text/plain"
            )

    return guarded


urlpatterns = [
    URLPattern(pattern.pattern, _guarded(pattern.callback), pattern.default_args, pattern.name)
    for pattern in anymail_urls.urlpatterns
]

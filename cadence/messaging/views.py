"""The unsubscribe page that every automated email links to: no login, no cookie.

A GET only asks for confirmation, because mail scanners and link previews follow links; the
POST (the button on the page, or a mail client's RFC 8058 one-click request) unsubscribes.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cadence.messaging.services import contact_unsubscribe
from cadence.messaging.unsubscribe import contact_for_token


# A one-click POST comes from the recipient's mail provider, with no session and no CSRF token;
# the signed token in the URL is what authorises it, and all it can do is stop mail.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    contact = contact_for_token(token)
    if contact is None:
        raise Http404("This unsubscribe link is not valid.")
    sender = contact.owner.display_name or contact.owner.get_full_name() or "us"
    context = {"token": token, "sender": sender, "email": _masked(contact.email)}
    if request.method == "POST":
        contact_unsubscribe(contact=contact)
        response = render(request, "messaging/unsubscribed.html", context)
    else:
        response = render(request, "messaging/unsubscribe.html", context)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _masked(address: str) -> str:
    """Enough of the address to recognise it, not enough to harvest it from a forwarded link."""
    local, _, domain = address.partition("@")
    if not domain:
        return ""
    return f"{local[:1]}{'*' * max(len(local) - 1, 2)}@{domain}"

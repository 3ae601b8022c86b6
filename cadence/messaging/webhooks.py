"""django-anymail's inbound and tracking webhooks, handed to the inbound services.

Anymail has already checked the request (basic auth, the provider's signature) when these
signals fire. An exception here makes the webhook answer an error, so the provider delivers the
event again later: nothing is lost, and a repeat is recognised by its Message-ID.

The services are imported when an event arrives, not when the app loads: they pull in most of
Cadence, which the app registry is still loading at that point.
"""

from anymail.signals import inbound, tracking
from django.dispatch import receiver


@receiver(inbound, dispatch_uid="cadence.messaging.inbound")
def _inbound(sender, event, esp_name, **kwargs) -> None:
    from cadence.messaging.inbound import inbound_receive

    inbound_receive(raw=event.message, source=f"anymail:{esp_name}"[:50])


@receiver(tracking, dispatch_uid="cadence.messaging.tracking")
def _tracking(sender, event, esp_name, **kwargs) -> None:
    from cadence.messaging.inbound import tracking_event_apply

    tracking_event_apply(
        event_type=event.event_type or "",
        recipient=event.recipient or "",
        esp_message_id=event.message_id or "",
        source=f"anymail:{esp_name}"[:50],
    )

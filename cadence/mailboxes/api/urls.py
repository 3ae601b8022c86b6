from cadence.mailboxes.api.views import MailboxViewSet


def register(router) -> None:
    router.register("mailboxes", MailboxViewSet, basename="mailbox")

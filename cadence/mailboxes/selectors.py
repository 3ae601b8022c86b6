from django.db.models import QuerySet

from cadence.accounts.models import User
from cadence.accounts.selectors import scope_by_user
from cadence.mailboxes.models import Mailbox


def mailbox_list(*, viewer: User) -> QuerySet[Mailbox]:
    """The viewer's own mailbox; for a manager their team's too, for an admin all: their
    status, never their secrets (which no serializer reads)."""
    return Mailbox.objects.filter(scope_by_user(viewer, field="user")).select_related("user")

"""Admin for mailboxes: their status, viewed here; never their secrets."""

from django.contrib import admin

from cadence.core.admin import ReadOnlyAdmin
from cadence.mailboxes.models import Mailbox, MailboxFolder


@admin.register(Mailbox)
class MailboxAdmin(ReadOnlyAdmin):
    list_display = ("email_address", "user", "provider", "status", "last_sync_at")
    list_filter = ("provider", "status")
    list_select_related = ("user",)
    search_fields = ("email_address", "user__username")
    exclude = ("secret_encrypted",)


@admin.register(MailboxFolder)
class MailboxFolderAdmin(ReadOnlyAdmin):
    """How far each folder has been read: written by the sync only."""

    list_display = ("mailbox", "name", "uid_validity", "last_uid", "updated_at")
    list_select_related = ("mailbox",)
    search_fields = ("mailbox__email_address", "name")

from django.apps import AppConfig


class MailboxesConfig(AppConfig):
    name = "cadence.mailboxes"
    label = "mailboxes"

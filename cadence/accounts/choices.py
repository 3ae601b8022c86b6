from django.db import models


class Role(models.TextChoices):
    """What a user may see: their own work (rep), their team's (manager), or everything (admin)."""

    REP = "rep", "Rep"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"

from django.db import models


class CompanySize(models.TextChoices):
    """Head-count bands, the usual firmographic buckets; analytics groups leads by them."""

    S1_10 = "1-10", "1-10"
    S11_50 = "11-50", "11-50"
    S51_200 = "51-200", "51-200"
    S201_500 = "201-500", "201-500"
    S501_1000 = "501-1000", "501-1000"
    S1001_5000 = "1001-5000", "1001-5000"
    S5001_PLUS = "5001+", "5001+"


class EmailStatus(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    VALID = "valid", "Valid"
    BOUNCED = "bounced", "Bounced"

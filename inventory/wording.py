"""Small pieces of wording shared by pages and audit entries."""


def in_minutes(duration) -> str:
    """A timedelta in whole minutes, for people: "15 minutes", "1 minute"; "" when unknown."""
    if not duration:
        return ""
    count = max(1, round(duration.total_seconds() / 60))
    return f"{count} minute{'' if count == 1 else 's'}"

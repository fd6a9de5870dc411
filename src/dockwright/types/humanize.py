"""Go's `units.HumanDuration`, shared by the API (container Status) and the CLI (CREATED columns)."""

from __future__ import annotations


def human_duration(seconds: float) -> str:
    """ "Less than a second", "3 seconds", "About a minute", "2 days", as Docker prints them."""
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int((seconds / 3600 + 0.5) // 1)  # Go's math.Round (Python's round is to even)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"

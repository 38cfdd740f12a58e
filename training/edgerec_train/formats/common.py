"""Small readers shared by the JSON-based event formats."""
import hashlib
import json


def number_or_none(value, what, problem):
    """A JSON number, or a number written as a string (BigQuery writes INT64 as strings)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise problem("BAD_NUMBER", f"{what} is a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise problem("BAD_NUMBER", f"{what} {value!r} is not a number")


def text(value):
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()
    return ""


def content_id(obj):
    """An id for an event that carries none: the same row exported twice gets the same one."""
    return hashlib.blake2b(json.dumps(obj, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()

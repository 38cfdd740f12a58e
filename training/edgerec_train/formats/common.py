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


def price_or_none(value, what, problem):
    """A price: a number >= 0 (negative or non-finite prices are refused, as in the CSV formats)."""
    x = number_or_none(value, what, problem)
    if x is not None and not (0 <= x < float("inf")):
        raise problem("BAD_NUMBER", f"{what} {value!r}: a price is a finite number >= 0")
    return x


def text(value):
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()
    return ""


def content_id(obj):
    # Numbers as strings: BigQuery's JSON export writes INT64 as strings, its Parquet as integers.
    """An id for an event that carries none: the same row exported twice gets the same one."""
    canonical = {k: str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for k, v in obj.items()}
    return hashlib.blake2b(json.dumps(canonical, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()

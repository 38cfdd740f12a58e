"""Times, prices and quantities as exports write them, each parsed strictly:
a value that cannot be read raises ValueError with the reason, and the
importer names the file, line and column."""
import datetime as dt
import math
import re

# Shopify's exports: `2024-03-10 14:05:33 -0400` (the offset moves with daylight saving).
_SPACED_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*([+-]\d{2}):?(\d{2})$")
# US-style dates of spreadsheet exports (UCI Online Retail: `12/1/2010 8:26`).
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def timestamp(text, default_tz=dt.timezone.utc):
    """Seconds since the epoch (UTC) of ISO 8601, Shopify's `YYYY-MM-DD hh:mm:ss ±hhmm`,
    `M/D/YYYY h:mm`, or a Unix time in seconds, milliseconds or microseconds
    (told apart by size: GA4 writes microseconds). A time without an offset is
    read in `default_tz`."""
    s = text.strip()
    if not s:
        raise ValueError("empty time")
    if _NUMBER.match(s):
        x = float(s)
        # 1e11 s is the year 5138; 1e14 ms the year 5138: beyond, the unit is smaller.
        for scale in (1, 1e3, 1e6, 1e9):
            if abs(x) / scale < 1e11:
                return _checked(x / scale, s)
        raise ValueError(f"{s!r} is too large for a Unix time")
    m = _SPACED_OFFSET.match(s)
    if m:
        s = f"{m[1]}T{m[2]}{m[3]}:{m[4]}"
    else:
        m = _SLASHED.match(s)
        if m:
            month, day, year, hour, minute, second = m.groups()
            s = f"{year}-{int(month):02}-{int(day):02}T{int(hour):02}:{minute}:{second or '00'}"
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    if s.endswith(" UTC"):
        s = s[:-4] + "+00:00"
    try:
        t = dt.datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a time (ISO 8601, `YYYY-MM-DD hh:mm:ss ±hhmm` or Unix seconds)")
    if t.tzinfo is None:
        t = t.replace(tzinfo=default_tz)
    return _checked(t.timestamp(), text.strip())


def _checked(seconds, text):
    # Before 1995 or after 2100 is an export bug or a unit mix-up, not an event.
    if not (788918400 <= seconds <= 4102444800) or math.isnan(seconds):
        raise ValueError(f"{text!r} is outside 1995-2100: wrong unit or field?")
    return seconds


def iso(seconds):
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SYMBOLS = {"$": None, "£": "GBP", "€": "EUR", "¥": None}


def price(text):
    """(amount, currency or None) of `19.99`, `19.99 USD`, `USD 19.99`, `£19.99` or `1,299.00`.
    An empty text is (None, None). A negative price or a non-number raises ValueError."""
    s = text.strip()
    if not s:
        return None, None
    currency = None
    parts = s.split()
    if len(parts) == 2:
        if _CURRENCY.match(parts[1]):
            s, currency = parts[0], parts[1]
        elif _CURRENCY.match(parts[0]):
            currency, s = parts[0], parts[1]
        else:
            raise ValueError(f"{text.strip()!r} is not a price (`19.99` or `19.99 USD`)")
    if s and s[0] in _SYMBOLS:
        currency = currency or _SYMBOLS[s[0]]
        s = s[1:]
    if re.match(r"^\d{1,3}(,\d{3})+(\.\d+)?$", s):
        s = s.replace(",", "")  # thousands separators
    if not _NUMBER.match(s):
        raise ValueError(f"{text.strip()!r} is not a price (`19.99` or `19.99 USD`)")
    amount = float(s)
    if amount < 0 or not math.isfinite(amount):
        raise ValueError(f"{text.strip()!r}: a price is a finite number >= 0")
    return amount, currency


def quantity(text, default=1):
    s = str(text).strip()
    if not s:
        return default
    if not _NUMBER.match(s):
        raise ValueError(f"{s!r} is not a quantity")
    q = float(s)
    if not math.isfinite(q) or abs(q) > 1e12:
        raise ValueError(f"{s!r} is not a plausible quantity")
    if q != int(q):
        raise ValueError(f"{s!r}: a quantity is a whole number")
    return int(q)

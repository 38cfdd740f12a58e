"""Reading export files as streams of located rows: (line, row) for CSV/TSV
with a header, (line, object) for newline-delimited JSON; gzip by suffix or
magic bytes, a folder as its files in name order (Segment's and GA4's daily
shards). Memory stays bounded: one row at a time."""
import csv
import gzip
import io
import json
import os
import sys
import zlib

from edgerec_train.errors import ImportProblem

# Long HTML descriptions (Shopify's Body (HTML)) exceed csv's 128 KiB default.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def files_of(path, suffixes=None):
    """A file, or every file of a folder (recursively, name order, hidden files skipped)."""
    if os.path.isdir(path):
        found = []
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found += [os.path.join(root, n) for n in sorted(names) if not n.startswith(".")
                      and (suffixes is None or any(n.endswith(s) for s in suffixes))]
        if not found:
            raise ImportProblem("EMPTY_FILE", path, "the folder holds no export files")
        return found
    return [path]


# What a damaged gzip or an unreadable file raises while being read.
READ_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, OSError)


def open_text(path):
    """Text of a file, gzip-decoded when it is gzip (by its magic bytes, whatever its name)."""
    with open(path, "rb") as raw:
        magic = raw.read(2)
    stream = gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")
    # utf-8-sig: Excel-saved CSVs start with a byte-order mark.
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")


def unreadable(path, e):
    """The ImportProblem for an exception raised while reading `path`."""
    if isinstance(e, UnicodeDecodeError):
        return ImportProblem("NOT_UTF8", path, f"not UTF-8 text ({e.reason} at byte {e.start} of a read block)")
    if isinstance(e, EOFError):
        return ImportProblem("BAD_ROW", path, "the compressed file ends early (truncated gzip)")
    return ImportProblem("BAD_ROW", path, f"cannot read: {e}")


def _decoded(path, lines):
    try:
        yield from lines
    except (UnicodeDecodeError, *READ_ERRORS) as e:
        raise unreadable(path, e)


class Table:
    """A delimited file with a header: `columns` (as written) and located rows.

    `rows()` yields (line, dict) where line is the row's first physical line
    (quoted newlines make a row span several) and the dict maps column names
    to values with "" for an empty field (csv reads `""` and nothing alike)."""

    def __init__(self, path, delimiter=","):
        self.path, self.delimiter = path, delimiter
        self._file = open_text(path)
        self._reader = csv.reader(_decoded(path, self._file), delimiter=delimiter, strict=True)
        try:
            header = next(self._reader)
        except StopIteration:
            self.close()
            raise ImportProblem("EMPTY_FILE", path, "the file is empty", line=1)
        except csv.Error as e:
            self.close()
            raise ImportProblem("BAD_ROW", path, f"the header cannot be read: {e}", line=1)
        except ImportProblem:
            self.close()
            raise
        while header and header[-1] == "" and len(header) > 1:
            header.pop()  # a trailing delimiter
        self.columns = [h.strip() for h in header]
        if len(self.columns) == 1 and self.columns[0] == "":
            self.close()
            raise ImportProblem("EMPTY_FILE", path, "the first line is empty: no header", line=1)

    def close(self):
        self._file.close()

    def column_number(self, name):
        """1-based, for error messages."""
        return self.columns.index(name) + 1 if name in self.columns else None

    def problem(self, code, line, column_name, message):
        return ImportProblem(code, self.path, message, line=line, column=self.column_number(column_name))

    def rows(self):
        width = len(self.columns)
        end = self._reader.line_num
        try:
            for row in self._reader:
                start, end = end + 1, self._reader.line_num
                if not row or (len(row) == 1 and row[0].strip() == ""):
                    continue  # a blank line
                if len(row) > width:
                    if any(v.strip() for v in row[width:]):
                        raise ImportProblem("BAD_ROW", self.path, f"{len(row)} fields where the header has {width}",
                                            line=start, column=width + 1)
                    row = row[:width]
                elif len(row) < width:
                    row = row + [""] * (width - len(row))  # trailing empty fields left out
                yield start, dict(zip(self.columns, row))
        except csv.Error as e:
            raise ImportProblem("BAD_ROW", self.path, f"{e} (a quote opened and never closed?)", line=end + 1)
        finally:
            self._file.close()


def json_lines(path):
    """(line, object) of a newline-delimited JSON file (or a gzip of one)."""
    with open_text(path) as f:
        for n, line in enumerate(_decoded(path, f), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ImportProblem("BAD_JSON", path, f"not JSON: {e.msg}", line=n, column=e.colno)
            if not isinstance(obj, dict):
                raise ImportProblem("BAD_JSON", path, f"a JSON {type(obj).__name__}, not an object", line=n, column=1)
            yield n, obj


def first_line(path):
    """The first line of a file (decoded, without its newline), for format detection.
    The first 64 KiB are decoded: a file that is not UTF-8 text says so here."""
    try:
        with open_text(path) as f:
            head = f.read(1 << 16)
    except (UnicodeDecodeError, *READ_ERRORS) as e:
        raise unreadable(path, e)
    return head.split("\n", 1)[0].rstrip("\r")

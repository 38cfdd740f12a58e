"""Finding a format's columns in a header, by any of the names its dialects use."""
import re

from edgerec_train.errors import ImportProblem


def normalise(name):
    return " ".join(name.strip().lower().replace("_", " ").split())


class Columns:
    """Roles (e.g. `sku`) to the header's own column names, found case- and
    spacing-insensitively among each role's aliases."""

    def __init__(self, table, roles, required, format_name):
        by_name = {normalise(c): c for c in table.columns}
        self.name = {}
        for role, aliases in roles.items():
            hit = next((by_name[normalise(a)] for a in aliases if normalise(a) in by_name), None)
            if hit is not None:
                self.name[role] = hit
        missing = [r for r in required if r not in self.name]
        if missing:
            try:
                check_header(table, format_name)
            except ImportProblem:
                table.close()
                raise
            wanted = "; ".join(" or ".join(repr(a) for a in roles[r]) for r in missing)
            table.close()
            raise ImportProblem("MISSING_COLUMN", table.path,
                                f"not a {format_name}: no {wanted} column in the header", line=1)
        self.table = table

    def has(self, role):
        return role in self.name

    def get(self, row, role):
        name = self.name.get(role)
        return row.get(name, "").strip() if name else ""

    def parsed(self, row, role, parse, line, code="BAD_NUMBER"):
        """`parse` of the role's value; its ValueError as an error at this row and column."""
        try:
            return parse(self.get(row, role))
        except ValueError as e:
            raise self.problem(code, line, role, str(e))

    def problem(self, code, line, role, message):
        return self.table.problem(code, line, self.name.get(role), message)


def check_header(table, format_name):
    """Why a header lacks the format's columns, when the reason is the file's
    shape: one column (another delimiter), or a first line that is data."""
    cols = table.columns
    if len(cols) == 1:
        for d, name in ((",", "commas"), (";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if d != table.delimiter and cols[0].count(d) >= 1:
                raise ImportProblem("WRONG_DELIMITER", table.path,
                                    f"the header is one column holding {name}: a {format_name} separates fields "
                                    f"with {'tabs' if table.delimiter == chr(9) else repr(table.delimiter)}",
                                    line=1, column=1)
    filled = [c for c in cols if c.strip()]
    datalike = sum(1 for c in filled if looks_like_data(c))
    if filled and datalike * 2 >= len(filled) or any(looks_like_time(c) for c in filled):
        raise ImportProblem("HEADER_AS_DATA", table.path,
                            f"the first line looks like data ({cols[:4]}…), not a header: a {format_name} "
                            "starts with its column names", line=1, column=1)


def looks_like_time(text):
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}", text.strip()))


def looks_like_data(text):
    t = text.strip()
    if not t:
        return False
    digits = sum(ch.isdigit() for ch in t)
    return digits * 2 >= len(t) or t.count("-") >= 2 and digits >= 6

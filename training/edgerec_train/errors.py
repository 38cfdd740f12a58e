"""Located import errors: every refusal names the file, the line and the column."""


class ImportProblem(Exception):
    """An export that cannot be read as it claims to be. `code` is stable (the
    docs list them); `line` and `column` are 1-based, None where they do not apply."""

    def __init__(self, code, path, message, line=None, column=None):
        super().__init__(message)
        self.code, self.path, self.message, self.line, self.column = code, str(path), message, line, column

    def where(self):
        place = self.path
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        return place

    def __str__(self):
        return f"{self.where()}: [{self.code}] {self.message}"


# The codes, for the docs and the tests.
CODES = {
    "EMPTY_FILE": "the file holds no rows (or no header)",
    "NOT_UTF8": "the file is not UTF-8 text",
    "WRONG_DELIMITER": "the header splits into one column: another delimiter than the format's",
    "HEADER_AS_DATA": "the first line looks like data: the header is missing",
    "MISSING_COLUMN": "a column the format needs is not in the header",
    "BAD_ROW": "a row has a different number of fields than the header, or an unclosed quote",
    "BAD_JSON": "a line is not a JSON object",
    "BAD_TIME": "a time that is neither ISO 8601, the platform's own form, nor Unix seconds/ms/µs",
    "BAD_NUMBER": "a price or quantity that is not a number",
    "BAD_XML": "the XML feed is not well formed",
    "UNKNOWN_FORMAT": "the file is none of the formats edgerec reads",
    "NO_DATA": "nothing usable is left after the import (every row dropped: see the counts)",
}

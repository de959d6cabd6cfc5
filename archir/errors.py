"""The two errors that malformed IR can raise: a parse error and a verify error."""

from __future__ import annotations


class ParseError(Exception):
    """Malformed text. Carries the 1-based ``line`` and ``column`` and shows a caret."""

    def __init__(self, message: str, line: int, column: int, source_line: str = "",
                 filename: str = "<text>"):
        self.message = message
        self.line = line
        self.column = column
        self.source_line = source_line
        self.filename = filename
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.filename}:{self.line}:{self.column}: error: {self.message}"
        if self.source_line:
            text += f"\n  {self.source_line}\n  {' ' * (self.column - 1)}^"
        return text


class VerifyError(Exception):
    """Invalid IR. Names the op, says what is wrong and shows the op in printed context."""

    def __init__(self, message: str, context: str = ""):
        self.message = message
        self.context = context
        super().__init__(f"{message}\n{context}" if context else message)

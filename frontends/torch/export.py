"""Running torch.export, and turning its failures into errors that name the user's line."""

from __future__ import annotations

import io
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr

import torch
from torch.export import ExportedProgram

from archir.frontends.errors import FrontendError
from archir.frontends.torch.nodes import short_path

_TORCH_DIR = os.path.dirname(torch.__file__)
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))

_DATA_DEPENDENT = ("data-dependent", "data dependent", "GuardOnDataDependentSymNode")


@contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """torch reports a failed trace itself (log warnings, a partial graph printed to stderr);
    the FrontendError says it better. What was written is kept for a successful trace."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    captured = io.StringIO()
    try:
        with redirect_stderr(captured):
            yield captured
    finally:
        logging.disable(previous)


def export(model: torch.nn.Module, inputs: tuple) -> ExportedProgram:
    try:
        with _quiet() as captured:
            program = torch.export.export(model, inputs, strict=False)
    except Exception as e:  # torch raises many kinds; each becomes one FrontendError
        raise FrontendError(_describe(e)) from e
    sys.stderr.write(captured.getvalue())  # the model's own warnings, if any
    return program


def _user_frame(e: BaseException) -> traceback.FrameSummary | None:
    """The innermost frame outside torch and archir: the model's own line."""
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if not f.filename.startswith((_TORCH_DIR, _OWN_DIR)) and "site-packages/torch" not in
              f.filename]
    return frames[-1] if frames else None


def _describe(e: BaseException) -> str:
    frame = _user_frame(e)
    where = ""
    if frame is not None:
        where = f" at {short_path(frame.filename)}:{frame.lineno}"
        if frame.line:
            where += f" (`{frame.line.strip()}`)"
    text = str(e)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(e).__name__)
    if any(marker in text or marker in type(e).__name__ for marker in _DATA_DEPENDENT):
        return (f"data-dependent control flow{where}: the model branches on tensor values, so "
                f"it has no single graph to lower ({first}); use torch.where or torch.cond, or "
                f"move the decision out of forward()")
    return f"torch.export could not trace the model{where}: {type(e).__name__}: {first}"

"""syncstream: sync-stream's Python API on the syncstream C library.

Collect the output (stdout, stderr, warnings, errors) of many threads,
processes or hosts into one ordered, bounded buffer of lines. The classes keep
sync-stream 1.2's names and behaviour, so that code written for it runs
unchanged; docs/python.md lists what differs and how to get the old behaviour.

- LineBuffer: lines written by the threads of this process.
- Record, RecordBatch: stored lines with their seq, time and source
  (LineBuffer.records(), iteration, LineBuffer.follow()).
- capture(): file descriptors 1 and 2 (C code, child processes) into a buffer.
- LineProcBuffer, LineProcMirror: lines written by child processes.
- LineFileBuffer: lines written by processes sharing a disk.
- LineHostMirror, LineHostBuffer, LineHostReader, host.serve(): lines sent
  between machines over HTTP.
- stream: threadedstream's TCP, serial, SSH and exec streams (syncstream.stream).
"""

from . import _core
from . import base
from .base import GroupedMessage, redirect_stderr, redirect_stdout
from . import mproc
from .mproc import LineBuffer, LineProcBuffer, LineProcMirror
from ._core import Record, RecordBatch
from .capture import capture
from . import file
from .file import LineFileBuffer
from . import host
from .host import LineHostBuffer, LineHostMirror, LineHostReader
from . import stream

__version__: str = _core.library_version

__all__ = (
    "__version__",
    "base",
    "GroupedMessage",
    "redirect_stdout",
    "redirect_stderr",
    "mproc",
    "LineBuffer",
    "Record",
    "RecordBatch",
    "capture",
    "LineProcBuffer",
    "LineProcMirror",
    "file",
    "LineFileBuffer",
    "host",
    "LineHostMirror",
    "LineHostBuffer",
    "LineHostReader",
    "stream",
)

"""syncstream: sync-stream's Python API on the syncstream C library.

Collect the output (stdout, stderr, warnings, errors) of many threads,
processes or hosts into one ordered, bounded buffer of lines. The classes keep
sync-stream 1.2's names and behaviour, so that code written for it runs
unchanged; docs/python.md lists what differs and how to get the old behaviour.

- LineBuffer: lines written by the threads of this process.
- stream: threadedstream's TCP, serial, SSH and exec streams (syncstream.stream).
"""

from . import _core
from . import base
from .base import GroupedMessage, redirect_stderr, redirect_stdout
from . import mproc
from .mproc import LineBuffer
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
    "stream",
)

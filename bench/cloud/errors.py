"""Errors of the cloud stage (all BenchError, so the command lines report them the same way)."""

from bench.errors import BenchError


class CloudStageError(BenchError):
    """The cloud stage cannot run: a bad run folder, a missing program, a host runtime that fails."""


class RemainderMissing(CloudStageError):
    """A client program's cloud remainder (or the full program used as the reference) is not in the manifest."""

"""One error root for everything analysis/ raises; only the CLI turns these into a message and an exit code."""


class AnalysisError(Exception):
    """Root of every error raised by analysis/. The message says what went wrong and what to do."""


class ResultsNotFound(AnalysisError):
    """A path given to the analysis holds no results.jsonl."""


class UnsupportedSchema(AnalysisError):
    """A file or row carries a schema or schema_version this analysis does not understand."""


class EmptyResults(AnalysisError):
    """A results file holds no rows."""


class CorruptResults(AnalysisError):
    """A results file has a row that is not valid JSON (other than a truncated last line) or lacks a field."""

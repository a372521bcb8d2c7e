"""One error root for everything analysis/ raises (a file that is not what it claims raises formats.errors.FormatError);
only the CLI turns these into a message and an exit code."""


class AnalysisError(Exception):
    """Root of every error raised by analysis/. The message says what went wrong and what to do."""


class ResultsNotFound(AnalysisError):
    """A path given to the analysis holds no results.jsonl."""


class EmptyResults(AnalysisError):
    """A results file holds no rows."""

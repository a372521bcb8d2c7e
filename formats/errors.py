"""Errors of reading and writing the files between the stages; each stage's command line reports them."""


class FormatError(Exception):
    """Root of every error raised by formats/. The message names the file and says what to do."""


class UnsupportedSchema(FormatError):
    """A file or row carries a schema or schema_version this reader does not understand."""


class ManifestError(FormatError):
    """An export manifest is missing, unreadable, malformed, or selects nothing."""


class ResultsError(FormatError):
    """A results file, run.json or run folder is missing, corrupt or malformed."""

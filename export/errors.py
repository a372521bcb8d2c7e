"""One error root for everything export/ raises; the command line turns these into one line and exit code 2."""


class ExportError(Exception):
    """Root of every error raised by export/. The message says what went wrong and what to do."""


class ConfigError(ExportError):
    """The export configuration is invalid (unknown split point, bad k, unknown backend, bad sizes)."""


class WeightsError(ExportError):
    """A weights file is missing, unreadable, or does not match the model's state dict."""


class CalibrationError(ExportError):
    """The calibration images are missing, unreadable, or too few for the requested reduction."""


class QuantizationError(ExportError):
    """An int8 program cannot be made: no calibration data, or the PT2E quantization or its lowering failed."""


class ProjectionFileError(ExportError):
    """A saved PCA projection file is unreadable or of an unknown schema version."""


class OutputNotWritable(ExportError):
    """The output folder cannot be created or written to."""


class ProgramExportError(ExportError):
    """Lowering or serialising one program failed."""


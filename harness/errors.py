"""The exception family that the CLI turns into one line on stderr and exit code 2."""


class HarnessError(Exception):
    """Bad input or an unusable environment: the message names the value and the fix."""


class InvalidArgumentError(HarnessError):
    """A command-line value or a function argument is outside what is accepted."""


class ModelLoadError(HarnessError):
    """A model or its weights cannot be found, read or parsed."""


class DataError(HarnessError):
    """Images, labels or another input file are missing or unreadable."""


class CalibrationError(HarnessError):
    """Calibration input shows too few board views or chart swatches to fit a profile."""


class ProfileError(HarnessError):
    """A camera or colour profile is missing, of another kind or of an unknown schema."""


class SourceError(HarnessError):
    """A camera, stream, video or image sequence cannot be opened or read."""


class SessionError(HarnessError):
    """A capture session cannot be written, or its files are missing, corrupt or of another
    schema version."""

"""The one exception type of the exporter."""


class ExportError(Exception):
    """A problem with the user's input; the CLI prints the message as one sentence and exits 1."""

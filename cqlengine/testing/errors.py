"""What the launcher raises: each error says why the local Cassandra could not be provided and what to do."""


class LauncherError(RuntimeError):
    """The local Cassandra could not be provided; the message says why and what to do."""


class JavaError(LauncherError):
    pass


class DownloadError(LauncherError):
    pass


class PortInUseError(LauncherError):
    pass


class StartTimeoutError(LauncherError):
    pass

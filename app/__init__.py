"""The application: a Qt-free core (``app.core``) and the PySide6 desktop GUI (``app.gui``)."""

__version__ = "0.1.0"

"""briefgen: turn a folder of sector figures into a client-ready PDF research brief."""

__version__ = "0.1.0"

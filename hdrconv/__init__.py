"""hdrconv: turn ordinary video into real HDR10."""

__version__ = "0.1.0"

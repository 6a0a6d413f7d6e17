"""Decoding, encoding and HDR10 metadata."""

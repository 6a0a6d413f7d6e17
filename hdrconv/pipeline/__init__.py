"""Streaming: windows, temporal state, tiling, concurrency."""

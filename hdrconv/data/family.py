"""The SDR tone-mapper family of the synthesised training data, kept free of heavy imports so that the
command line can list it without loading torch (:mod:`hdrconv.data.synthesis` implements them)."""

TONE_MAPPERS = ("clip", "reinhard", "hable", "camera", "bt2446a", "bt2446c", "drago", "sigmoid", "eetf")
"""The SDR tone-mapper family of training, drawn uniformly per sample."""

HELD_OUT_TONE_MAPPERS = ("aces", "ffmpeg-reinhard")
"""Tone mappers that no training run ever draws (:func:`hdrconv.data.synthesis.random_recipe` refuses
them): the held-out curve families of the evaluation protocol (:mod:`hdrconv.data.protocol`)."""

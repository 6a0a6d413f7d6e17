"""Synthesised SDR/HDR10 data shared by training and evaluation: the ground-truth grade
(:mod:`~hdrconv.data.grading`), the SDR family (:mod:`~hdrconv.data.synthesis`), video and
alternating-exposure clips (:mod:`~hdrconv.data.video`), scenes and samples (:mod:`~hdrconv.data.scenes`),
metrics (:mod:`~hdrconv.data.metrics`) and the scoring of a model on samples
(:mod:`~hdrconv.data.validation`). Neither :mod:`hdrconv.train` nor :mod:`hdrconv.eval` is imported
here: both build on this package."""

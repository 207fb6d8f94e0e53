"""Audio frontends: waveform (16 kHz) -> feature sequences, plus reading and resampling audio."""

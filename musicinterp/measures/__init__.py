"""Distribution-level audio measures: FAD (with a bootstrap interval and FAD-inf) and unbiased KAD,
over pluggable embedders (the model's own EnCodec latents or decoder embeddings, log-mel, CLAP)."""

from .distances import AudioDistances, audio_distances, embedding_distances
from .embedders import ClapEmbedder, Embedder, EncodecEmbedder, MelEmbedder, TokenEmbedder, model_embedder
from .fad import FadInf, Interval, MeasureError, fad, fad_inf, fad_interval, frechet_distance, moments
from .kad import kad, kad_interval, median_bandwidth

__all__ = ["AudioDistances", "audio_distances", "embedding_distances", "Embedder", "EncodecEmbedder",
           "TokenEmbedder", "MelEmbedder", "ClapEmbedder", "model_embedder", "FadInf", "Interval", "MeasureError",
           "fad", "fad_inf", "fad_interval", "frechet_distance", "moments", "kad", "kad_interval",
           "median_bandwidth"]

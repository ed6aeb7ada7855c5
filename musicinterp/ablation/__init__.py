"""Layer ablation and activation patching: where a concept lives, causally."""

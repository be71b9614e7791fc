"""spliceannot: SpliceAI splice-site prediction and variant scoring in PyTorch."""

__version__ = "0.1.0"

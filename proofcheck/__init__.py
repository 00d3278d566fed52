"""proofcheck: a symbolic checker for step-by-step derivations in ML math."""
__version__ = "0.1.0"

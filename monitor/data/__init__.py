"""Data files shipped with socialmon."""

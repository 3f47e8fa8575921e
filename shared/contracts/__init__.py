"""Event contracts: the only thing services know of each other.

One module per producing service. A payload carries the facts its consumers need (they
cannot read the producer's tables) and gets a new major version only for a breaking change.
"""

"""The model lifecycle commands (create-data, train, evaluate, ...).

Installed as ``spliceannot.trainers``; only the CLI group refers to it.
"""

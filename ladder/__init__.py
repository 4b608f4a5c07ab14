"""Ladder's operator CLI: ask the deployed API, upload documents, check data and run fine-tuning.

Run ``ladder --help`` (or ``python -m ladder --help``) for the commands.
"""

"""Dated price tables: per-request model prices (``models``) and the idle monthly floor (``idle``)."""

"""Withdrawal monitor: bedside COWS charting and precipitated-withdrawal alerts."""

__version__ = "0.1.0"

"""Brightline: detect, review, report and preserve.

The core (signals, index, banks, matching, storage) never imports the adapters (cli, and later
api and web); adapters call the service functions and own the transaction.
"""

__version__ = "0.1.0"

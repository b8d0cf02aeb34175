"""VTEX's order feed (Feed v3) in the sandbox: per-AppKey configurations and queues fed by the order book.

Modules, one concern each: ``config`` (the configuration's contract and GET answer), ``queue`` (one
queue's visibility, handles, retention), ``hub`` (the feeds of every AppKey and the matching of order
changes) and ``expressions`` (JSONata, through the optional ``jsonata-python``).
"""

from __future__ import annotations

from vtex_sandbox.feed.config import FeedSettings, parse_feed_config
from vtex_sandbox.feed.hub import FeedHub
from vtex_sandbox.feed.queue import MAX_LOT

__all__ = ["MAX_LOT", "FeedHub", "FeedSettings", "parse_feed_config"]

"""Request-body contracts, one module per VTEX route set."""

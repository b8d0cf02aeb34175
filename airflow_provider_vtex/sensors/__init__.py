"""Sensors: wait for VTEX order states before acting on an order."""

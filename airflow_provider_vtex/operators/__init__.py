"""Operators: Airflow tasks that read VTEX's order feed, start handling, and notify invoices and tracking."""

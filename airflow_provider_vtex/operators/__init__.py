"""Operators: Airflow tasks that notify VTEX of invoices and tracking."""

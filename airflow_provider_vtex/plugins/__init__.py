"""Airflow plugins the provider declares: the VTEX page in Airflow's UI (Airflow 3.1+)."""

"""Triggers: waits that run in Airflow's triggerer as coroutines, not in a worker slot."""

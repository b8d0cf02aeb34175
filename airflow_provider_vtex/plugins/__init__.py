"""What the provider adds to Airflow's API server (Airflow 3): the order hook's receiver, declared by the
one plugin class in ``plugin.py``."""

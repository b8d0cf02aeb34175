"""What the provider adds to Airflow 3's API server, declared by the one plugin class in ``plugin.py``: the
order hook's receiver (``receiver.py``, Airflow 3.0+) and the VTEX page in Airflow's UI (``vtex_page.py``,
Airflow 3.1+)."""

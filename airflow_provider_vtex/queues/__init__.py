"""``vtex`` as a queue of Airflow's common.messaging provider (``MessageQueueTrigger(scheme="vtex")``)."""

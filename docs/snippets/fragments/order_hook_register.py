from airflow_provider_vtex.operators.order_hook import VtexRegisterOrderHookOperator

register_order_hook = VtexRegisterOrderHookOperator(
    task_id="register_order_hook",
    url="https://airflow.example.com/vtex/order-hook/vtex_default",
    feed_filter={"type": "FromWorkflow", "status": ["ready-for-handling"]},
)

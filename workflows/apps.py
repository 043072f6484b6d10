from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hatchet.metrics import register_collector
        from workflows import live, signals
        from workflows.engine import durable
        from workflows.metrics import ENGINE_COLLECTOR

        live.subscribe_to_engine()
        signals.events_pushed.connect(durable.on_events_pushed)
        signals.children_finished.connect(durable.on_children_finished)
        register_collector(ENGINE_COLLECTOR)

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alerts import tasks
        from workflows import ticker

        # Rules are measured on the engine's tick, after the workers' pass has declared
        # the silent ones dead.
        ticker.add_tick_pass(tasks.alerts_pass)

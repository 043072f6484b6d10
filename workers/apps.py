from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from workers import dispatch, registry
        from workflows import ticker

        dispatch.subscribe_to_engine()
        # Dead workers are checked on every pass of the engine tick.
        ticker.add_tick_pass(registry.check_workers)

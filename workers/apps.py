from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hatchet.metrics import register_collector
        from workers import dispatch, registry
        from workers.metrics import WORKER_COLLECTOR
        from workflows import ticker
        from workflows.signals import live_workers, workers_serving

        dispatch.subscribe_to_engine()
        workers_serving.connect(registry.serving_workers, dispatch_uid="workers.serving")
        live_workers.connect(registry.live_worker_profiles, dispatch_uid="workers.live")
        # Dead workers are checked on every pass of the engine tick.
        ticker.add_tick_pass(registry.check_workers)
        register_collector(WORKER_COLLECTOR)

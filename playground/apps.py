from django.apps import AppConfig


class PlaygroundConfig(AppConfig):
    name = "playground"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from playground import catalog, code_evaluators, retention, scoring, tasks
        from playground.github import evidence
        from workflows import ticker

        catalog.subscribe_to_engine()
        code_evaluators.subscribe_to_engine()
        scoring.subscribe_to_engine()
        retention.subscribe_to_engine()
        evidence.subscribe_to_scores()
        ticker.add_periodic_work(tasks.pull_request_refresh)

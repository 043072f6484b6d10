"""Trigger one SupportReply run and print its result (needs HATCHET_TOKEN of an editor
or admin token, such as `make dev`'s `.hatchet/token`: a worker token may not trigger)."""

import json
import sys

from hatchet.sdk import Hatchet


def main() -> None:
    ticket = " ".join(sys.argv[1:]) or "My invoice shows the wrong amount."
    run = Hatchet().admin.run_workflow("SupportReply", {"ticket": ticket})
    print(f"workflow run {run.workflow_run_id}")
    print(json.dumps(run.result(timeout=60), indent=2))


if __name__ == "__main__":
    main()

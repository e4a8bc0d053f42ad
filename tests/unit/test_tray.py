"""The job tray folds a group's runs into one entry."""

from dataclasses import dataclass

from imagelab.runs.tray import tray_entries


@dataclass
class Job:
    run_id: int
    status: str
    group: str | None = None
    page: str = "sweep"
    prompt: str = "a chair"
    requested: int = 2
    saved: int = 0
    elapsed: float = 1.0

    @property
    def active(self):
        return self.status in ("queued", "running")


def test_a_group_is_one_entry_and_a_lone_run_its_own():
    jobs = [Job(1, "ok", "g", saved=2), Job(2, "running", "g", elapsed=4.0), Job(3, "queued", "g"),
            Job(4, "running", None, page="generate", prompt="a fox")]
    sweep, lone = tray_entries(jobs)
    assert sweep.run_ids == (1, 2, 3) and sweep.grouped and sweep.active_ids == (2, 3)
    assert (sweep.running, sweep.queued, sweep.finished, sweep.saved, sweep.requested) == (1, 1, 1, 2, 6)
    assert sweep.elapsed == 4.0 and sweep.prompt == "a chair"
    assert lone.run_ids == (4,) and not lone.grouped and lone.status == "running" and lone.active_ids == (4,)


def test_a_finished_group_says_its_worst_outcome():
    entry, = tray_entries([Job(1, "ok", "g"), Job(2, "failed", "g"), Job(3, "partial", "g")])
    assert entry.status == "failed" and entry.active_ids == ()
    entry, = tray_entries([Job(1, "ok", "g"), Job(2, "ok", "g")])
    assert entry.status == "ok"

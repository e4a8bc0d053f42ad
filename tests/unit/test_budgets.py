"""Spending limits against the history (SQLite and PostgreSQL): what counts, and the sentence a refusal says."""

import time

from imagelab.runs import budgets
from imagelab.specs import GenerateSpec


def finished(store, backend, dollars, status="ok"):
    run_id = store.start_run("generate", "gpt-image-1.5", "p", {}, {"dollars": dollars}, backend, status="running")
    store.finish_run(run_id, status, usage={"total_tokens": 1}, actual_dollars=dollars)
    return run_id


def test_offline_runs_never_count_and_are_never_refused(store):
    store.set_limit("day", 1.0)
    finished(store, "Offline backend", 5.0)
    billed = finished(store, "OpenAI", 0.25)
    running = store.start_run("generate", "gpt-image-1.5", "p", {}, {"dollars": 0.5}, "OpenAI", status="running")
    now = time.time()
    (day,) = budgets.spending(store, [], now=now)
    assert day.spent == 0.75  # the billed run's actual cost and the running one's estimate
    assert budgets.check(store, 0.5, backend="Offline backend", session_ids=[], now=now) is None
    refusal = budgets.check(store, 0.5, backend="OpenAI", session_ids=[], now=now)
    assert refusal.scope == "day" and round(refusal.over, 2) == 0.25
    # the session limit counts only this session's runs
    store.set_limit("session", 0.3)
    assert budgets.check(store, 0.1, backend="OpenAI", session_ids=[billed], now=now).scope == "session"
    store.set_limit("day", None)
    assert budgets.check(store, 0.04, backend="OpenAI", session_ids=[billed], now=now) is None
    assert budgets.check(store, 0.1, backend="OpenAI", session_ids=[billed, running], now=now).scope == "session"


def test_a_refusal_says_what_would_fit(store):
    store.set_limit("month", 0.1)
    spec = GenerateSpec(prompt="a pear", model="gpt-image-1.5", quality="high", size="1024x1024", n=2)
    refusal = budgets.check(store, 0.4, backend="OpenAI", session_ids=[], spec=spec, now=time.time())
    assert refusal.sentence.startswith("Not sent: this request would cost about $0.400, which would cross your "
                                       "monthly limit of $0.100 by $0.300.")
    assert "What would fit in the $0.100 left: medium quality ($0." in refusal.sentence
    store.set_limit("month", 0.001)
    tight = budgets.check(store, 0.4, backend="OpenAI", session_ids=[], spec=spec, now=time.time())
    assert tight.sentence.endswith("raise the limit in the sidebar or wait until next month.")


def test_a_billed_run_that_reported_no_usage_counts_at_its_estimate(store):
    """A backend that sends pictures but no usage: each finished run still counts, at its estimate, so a limit
    that fits one stops the second."""
    import threading

    from imagelab.client import Connection, FinalImage
    from imagelab.costs import estimate
    from imagelab.runs.engine import JobRequest, RunEngine
    from imagelab.specs import GenerateSpec
    from tests.unit.test_jobs import png

    spec = GenerateSpec(prompt="A fox", model="gpt-image-2", quality="low", size="1024x1024")
    store.set_limit("day", estimate(spec).dollars * 1.5)
    billed = Connection("http://127.0.0.1:9/v1", "sk-test", label="Custom: a proxy", max_retries=0)
    guard = budgets.Guard(store, [], billed.label, time.time)
    engine = RunEngine(store, workers=1)
    sent = []
    lock = threading.Lock()

    def no_usage(client, sp):
        with lock:
            sent.append(sp.prompt)
        yield FinalImage(0, png(len(sent)), "png", 16, 16)

    ids = [engine.submit(JobRequest(spec, no_usage, billed, page="generate", budget=guard)) for _ in range(3)]
    for run_id in ids:
        engine.wait(run_id)
    engine.shutdown()
    assert len(sent) == 1
    statuses = [store.run(i).status for i in ids]
    assert statuses == ["ok", "cancelled", "cancelled"], [store.run(i).error for i in ids]


def test_a_persons_own_limit_stops_them_and_not_the_others_and_the_team_limit_stops_everyone(store):
    from imagelab.people import Person

    alice, bob = Person("alice", "alice@example.com"), Person("bob", "bob@example.com")
    for who, dollars in ((alice, 0.30), (bob, 0.05)):
        run_id = store.start_run("generate", "gpt-image-1.5", "p", {}, {"dollars": dollars}, "OpenAI",
                                 status="running", owner=who)
        store.finish_run(run_id, "ok", usage={"total_tokens": 1}, actual_dollars=dollars)
    store.set_person_limit("bob", "day", 0.10)
    now = time.time()
    spec = GenerateSpec(prompt="a pear", model="gpt-image-1.5", quality="high", size="1024x1024", n=2)
    bobs = budgets.check(store, 0.08, backend="OpenAI", session_ids=[], spec=spec, now=now, owner="bob")
    assert bobs.sentence.startswith("Not sent: this request would cost about $0.080, which would cross your daily "
                                    "limit of $0.100 ($0.050 already spent) by $0.030.")  # only Bob's own spend
    assert budgets.check(store, 0.08, backend="OpenAI", session_ids=[], now=now, owner="alice") is None
    assert [(s.whose, s.limit) for s in budgets.spending(store, [], now=now, owner="alice")] == []  # not Bob's
    store.set_limit("day", 0.40)  # the team's: everyone's spend together ($0.35)
    team = budgets.check(store, 0.08, backend="OpenAI", session_ids=[], now=now, owner="alice")
    assert "which would cross the team's daily limit of $0.400 ($0.350 already spent)" in team.sentence
    assert team.sentence.endswith("ask an admin to raise it or wait until tomorrow.")

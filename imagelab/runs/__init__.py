"""Runs: the engine, its two schedulers (in-process pool, PostgreSQL queue), job kinds, Batch API
jobs, sweeps, fan-out, conversation turns, spending guards, leases and the job tray."""

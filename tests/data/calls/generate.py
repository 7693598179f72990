"""400 call records of the example's sales agent, v1 and v2 taking turns (JSON Lines on stdout).

The docs import them (docs/calls.md): a fixed seed, so every run prints the same figures.
"""
import datetime
import json
import random

random.seed(7)
START = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.timezone.utc)
for i in range(400):
    version = 1 if i % 2 == 0 else 2
    success = random.random() < (0.66 if version == 1 else 0.78)
    started = START + datetime.timedelta(minutes=15 * i)
    seconds = int(random.gauss(96 if version == 1 else 91, 15))
    print(json.dumps({
        "call_id": f"c-{i:04d}",
        "agent": "sales",
        "version": version,
        "channel": "+14155550100",
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ended_at": (started + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "success": success,
        "sentiment": random.choice(["positive", "neutral", "negative"]),
        "cost": round(random.uniform(0.15, 0.27), 4),
        "cost_unit": "usd",
        "analysis": {"demo_booked": success and random.random() < 0.8},
    }))

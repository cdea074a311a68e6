"""The SimPy reference for the "engine" benchmark section: an M/M/1 queue.

Customers arrive with exponential inter-arrival times (rate LAMBDA) and are served one at a
time, first come first served, with exponential service times (rate MU). The run stops when
all CUSTOMERS have left (the arrival process stops after CUSTOMERS arrivals and the queue
drains). The idiomatic SimPy model: a source process, one process per customer, and a
Resource of capacity 1.

Usage: mm1_simpy.py LAMBDA MU CUSTOMERS SEED REPS BATCHES
Prints one JSON object: best_seconds (the fastest repetition of env.run(), in process CPU time),
the mean response time and the batch means of the response times of the last repetition, in
departure order. Repetition r uses seed SEED + r.
"""
import json
import random
import sys
import time

import simpy


def run_once(lam, mu, customers, seed):
    rng = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    responses = []

    def customer(arrival):
        with server.request() as req:
            yield req
            yield env.timeout(rng.expovariate(mu))
        responses.append(env.now - arrival)

    def source():
        for _ in range(customers):
            yield env.timeout(rng.expovariate(lam))
            env.process(customer(env.now))

    env.process(source())
    t0 = time.process_time()
    env.run()
    elapsed = time.process_time() - t0
    if len(responses) != customers:
        raise SystemExit(f"mm1_simpy: {len(responses)} customers left, expected {customers}")
    return elapsed, responses


def main():
    if len(sys.argv) != 7:
        raise SystemExit("usage: mm1_simpy.py LAMBDA MU CUSTOMERS SEED REPS BATCHES")
    lam, mu = float(sys.argv[1]), float(sys.argv[2])
    customers, seed, reps, batches = (int(a) for a in sys.argv[3:7])
    best = None
    responses = []
    for r in range(reps):
        elapsed, responses = run_once(lam, mu, customers, seed + r)
        best = elapsed if best is None else min(best, elapsed)
    size = customers // batches
    batch_means = [sum(responses[b * size:(b + 1) * size]) / size for b in range(batches)]
    print(json.dumps({
        "best_seconds": best,
        "mean_response": sum(responses) / len(responses),
        "batch_means": batch_means,
        "simpy_version": simpy.__version__,
    }))


if __name__ == "__main__":
    main()

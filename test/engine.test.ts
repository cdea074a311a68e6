import { expect } from 'chai';
import { Entity, createRandom, createSim } from '../src/model/engine.js';

describe('engine (simjs adapter)', () => {
  it('loads simjs without touching globalThis', () => {
    const g = globalThis as Record<string, unknown>;
    expect(g.Sim).to.equal(undefined);
    expect(g.window).to.equal(undefined);
    expect(createSim().time()).to.equal(0);
  });

  it('delivers events in time order, ties in insertion order, with done() callbacks', () => {
    const sim = createSim();
    const log: string[] = [];
    class Actor extends Entity {
      start(tag: string, delays: number[]): void {
        for (const d of delays) this.setTimer(d).done(() => log.push(`${tag}@${this.time()}`));
      }
    }
    sim.addEntity(Actor, 'a', 'a', [30, 10, 20]);
    sim.addEntity(Actor, 'b', 'b', [10, 20]);
    sim.simulate(Infinity);
    expect(log).to.deep.equal(['a@10', 'b@10', 'a@20', 'b@20', 'a@30']);
  });

  it('random streams are seeded: same seed, same sequence; seed is mandatory and checked', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const sa = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).to.deep.equal(sa);
    expect(Array.from({ length: 5 }, () => c.random())).to.not.deep.equal(sa);
    expect(() => createRandom(-1)).to.throw(RangeError);
    expect(() => createRandom(1.5)).to.throw(RangeError);
    const e = createRandom(7).exponential(0.5);
    expect(e).to.be.greaterThan(0);
  });
});

/**
 * The benchmark sections, in the order `npm run bench` runs them. Add a section by writing
 * `bench/sections/NAME.ts` (see bench/section.ts) and listing it here.
 */
import type { BenchSection } from '../section.js';
import { cacheSection } from './cache.js';
import { engineSection } from './engine.js';
import { jobs2Section, reproduceSection } from './reproduce.js';
import { apacheSection, mysqlSection, scalingSection } from './workloads.js';

export const SECTIONS: readonly BenchSection[] = [cacheSection, engineSection, apacheSection, mysqlSection, scalingSection, jobs2Section, reproduceSection];

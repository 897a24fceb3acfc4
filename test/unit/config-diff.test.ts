// `config diff`: what differs between the config in force and a file, leaf by leaf, with rules
// matched by id so that inserting one rule reads as one addition.

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeDifference, diffConfigs } from '#shared/cli/config-push.ts';
import { configTextWith, defaultConfigText } from '#test/support/fixtures.ts';

const inForce = () => parse(defaultConfigText());

describe('config diff', () => {
  it('finds nothing between a config and itself, written as JSON or YAML', () => {
    expect(diffConfigs(JSON.parse(JSON.stringify(inForce())), inForce())).toEqual([]);
  });

  it('names a changed limit by the rule’s position and id', () => {
    const file = parse(configTextWith(['warn: 72h', 'warn: 48h']));

    expect(diffConfigs(inForce(), file).map(describeDifference)).toEqual([
      '~ rules[8] (da-standard).warn: 72h -> 48h',
    ]);
  });

  it('shows a removed rule as one removal, not every later rule changed', () => {
    const before = inForce();
    const file = inForce();
    file.rules.splice(1, 1);

    expect(diffConfigs(before, file)).toEqual([{ path: 'rules (child-high)', inForce: before.rules[1] }]);
  });

  it('shows rules in a new order', () => {
    const file = inForce();
    file.rules.reverse();

    expect(diffConfigs(inForce(), file).map((d) => d.path)).toEqual(['rules (order)']);
  });

  it('compares other lists by position, and maps by key', () => {
    const file = inForce();
    file.routes[0].audiences = ['district-supervisor', 'duty-inspector'];
    delete file.districts.D10;
    file.calendar.extraNonWorkingDays = ['2027-06-07'];

    expect(diffConfigs(inForce(), file).map(describeDifference)).toEqual([
      '- districts.D10: {"name":"Riverside","localAuthority":"la-riverside"}',
      '+ calendar.extraNonWorkingDays[0]: 2027-06-07',
      '+ routes[0].audiences[1]: duty-inspector',
    ]);
  });
});
